package store

import (
	"fmt"
	"testing"
)

// BenchmarkSetUnderEviction: SETs of new 1 KB values into a full
// keyspace (allkeys-lru), each followed by the eviction it needs, as a
// write under maxmemory runs.
func BenchmarkSetUnderEviction(b *testing.B) {
	for _, keys := range []int{100_000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			ks := New(Config{Databases: 16, Shards: 64}, nopObserver{})
			db := ks.DB(0)
			val := make([]byte, 1024)
			names := make([][]byte, 4*keys)
			for i := range names {
				names[i] = fmt.Appendf(nil, "key:%012d", i)
			}
			set := func(k []byte) {
				sh := db.ShardOf(k)
				sh.Lock()
				db.Set(k, val, 1000, SetOptions{})
				sh.Unlock()
			}
			for _, k := range names[:keys] {
				set(k)
			}
			ks.SetMaxMemory(ks.UsedMemory())
			ks.SetPolicy(AllKeysLRU)
			i := keys
			for b.Loop() {
				set(names[i%len(names)])
				i++
				ks.Evict(1000)
			}
		})
	}
}
