package zset

import (
	"fmt"
	"runtime"
	"testing"
)

// TestMemUsageMatchesHeap compares the running totals with what the heap
// really grew by, for small (listpack) and large (skiplist) sets, after
// inserts and after deletes.
func TestMemUsageMatchesHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates ~30 MB")
	}
	for _, c := range []struct {
		name          string
		sets, members int
		memberLen     int
		listpack      bool
	}{
		{"listpack", 5000, 20, 10, true},
		{"skiplist-small", 500, 200, 12, false},
		{"skiplist-large", 1, 100000, 16, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			sets := make([]*ZSet, c.sets)
			lim := DefaultLimits
			if !c.listpack {
				lim.MaxListpackEntries = 0
			}
			format := fmt.Sprintf("%%0%dd", c.memberLen)
			for i := range sets {
				z := New(c.listpack, 0)
				for j := 0; j < c.members; j++ {
					z.Add([]byte(fmt.Sprintf(format, j*7919%c.members)), float64(j%97), 0, lim)
				}
				sets[i] = z
			}
			measure := func(stage string) {
				runtime.GC()
				runtime.ReadMemStats(&after)
				heap := int64(after.HeapAlloc) - int64(before.HeapAlloc) - int64(cap(sets)*8)
				used := 0
				for _, z := range sets {
					used += z.MemUsage()
				}
				ratio := float64(used) / float64(heap)
				t.Logf("%s: accounted %d bytes, heap grew %d bytes (ratio %.2f)", stage, used, heap, ratio)
				if ratio < 0.85 || ratio > 1.15 {
					t.Errorf("%s: accounted/heap = %.2f, want within 15%%", stage, ratio)
				}
			}
			measure("after inserts")
			for _, z := range sets {
				for j := 0; j < c.members*3/4; j++ {
					z.Delete([]byte(fmt.Sprintf(format, j)))
				}
			}
			measure("after deleting 3/4")
			runtime.KeepAlive(sets)
		})
	}
}
