package fsm

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/anvilstack/anvil/pkg/pebblestore"
)

// BenchmarkApply applies batches of 256-byte puts to fresh keys.
func BenchmarkApply(b *testing.B) {
	for _, batch := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db, err := pebblestore.Open(filepath.Join(b.TempDir(), "db"), pebblestore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			f, _ := Open(db, 0)
			defer f.Close()
			value := make([]byte, 256)
			var index uint64
			logs := make([]*raft.Log, batch)
			b.ReportAllocs()
			for b.Loop() {
				for i := range logs {
					index++
					logs[i] = &raft.Log{Index: index, Type: raft.LogCommand,
						Data: Command{Op: OpPut, Key: fmt.Appendf(nil, "key%012d", index), Value: value}.Append(nil)}
				}
				f.ApplyBatch(logs)
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "puts/s")
		})
	}
}
