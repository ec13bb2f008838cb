package store

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
)

// The garbage collector's cost of a big keyspace: one full collection
// with N small string keys live (the mark phase visits every entry's
// pointers: its key and value block, and its slots in the shard's map and
// entry slice).
func BenchmarkGCWithKeys(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			ks := New(Config{Databases: 16, Shards: 64}, nil)
			db := ks.DB(0)
			val := make([]byte, 32)
			key := make([]byte, 0, 16)
			for i := range n {
				key = strconv.AppendInt(append(key[:0], "key:"...), int64(i), 10)
				sh := db.ShardOf(key)
				sh.Lock()
				db.Set(key, val, 1, SetOptions{})
				sh.Unlock()
			}
			perKey := float64(ks.UsedMemory()) / float64(n)
			for b.Loop() {
				runtime.GC()
			}
			b.ReportMetric(perKey, "bytes/key")
			runtime.KeepAlive(ks)
		})
	}
}
