package collection

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/anvilstack/anvil/cached/store"
)

// TestMemUsageMatchesHeap compares the running totals MemUsage reports
// with what the heap really grew by, for every encoding, after inserts
// and after deleting 3/4 of the elements.
func TestMemUsageMatchesHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates ~40 MB")
	}
	lim := DefaultLimits()
	tableLim := Limits{HashMaxListpackEntries: 0, HashMaxListpackValue: 64, SetMaxIntsetEntries: 0}
	type value interface{ MemUsage() int }
	for _, c := range []struct {
		name   string
		values int
		elems  int
		fill   func(i, n int) value
		del    func(v value, j int)
	}{
		{"hash-listpack", 5000, 20, func(i, n int) value {
			h := NewHash()
			for j := range n {
				h.Set(fmt.Appendf(nil, "field:%04d", j), fmt.Appendf(nil, "value:%06d", i), &lim)
			}
			return h
		}, func(v value, j int) { v.(*Hash).Delete(fmt.Appendf(nil, "field:%04d", j)) }},
		{"hash-table-small", 500, 200, func(i, n int) value {
			h := NewHash()
			for j := range n {
				h.Set(fmt.Appendf(nil, "field:%04d", j), fmt.Appendf(nil, "value:%06d", i), &tableLim)
			}
			return h
		}, func(v value, j int) { v.(*Hash).Delete(fmt.Appendf(nil, "field:%04d", j)) }},
		{"hash-table-large", 1, 100000, func(i, n int) value {
			h := NewHash()
			for j := range n {
				h.Set(fmt.Appendf(nil, "field:%08d", j), fmt.Appendf(nil, "value:%06d", j), &tableLim)
			}
			return h
		}, func(v value, j int) { v.(*Hash).Delete(fmt.Appendf(nil, "field:%08d", j)) }},
		{"set-intset", 5000, 50, func(i, n int) value {
			s := NewIntSet()
			for j := range n {
				s.AddInt(int64(j*7919+i), &lim)
			}
			return s
		}, func(v value, j int) { s := v.(*Set); s.RemoveAt(s.Len() - 1) }},
		{"set-table-small", 500, 200, func(i, n int) value {
			s := NewTableSet(0)
			for j := range n {
				s.Add(fmt.Appendf(nil, "member:%06d", j), &lim)
			}
			return s
		}, func(v value, j int) { v.(*Set).Remove(fmt.Appendf(nil, "member:%06d", j)) }},
		{"set-table-large", 1, 150000, func(i, n int) value {
			s := NewTableSet(0)
			for j := range n {
				s.Add(fmt.Appendf(nil, "member:%08d", j), &lim)
			}
			return s
		}, func(v value, j int) { v.(*Set).Remove(fmt.Appendf(nil, "member:%08d", j)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			values := make([]value, c.values)
			for i := range values {
				values[i] = c.fill(i, c.elems)
			}
			measure := func(stage string) {
				runtime.GC()
				runtime.ReadMemStats(&after)
				heap := int64(after.HeapAlloc) - int64(before.HeapAlloc) - int64(store.AllocSize(cap(values)*16))
				used := 0
				for _, v := range values {
					used += v.MemUsage()
				}
				ratio := float64(used) / float64(heap)
				t.Logf("%s: accounted %d bytes, heap grew %d bytes (ratio %.2f)", stage, used, heap, ratio)
				if ratio < 0.85 || ratio > 1.15 {
					t.Errorf("%s: accounted/heap = %.2f, want within 15%%", stage, ratio)
				}
			}
			measure("after inserts")
			for _, v := range values {
				for j := 0; j < c.elems*3/4; j++ {
					c.del(v, j)
				}
			}
			measure("after deleting 3/4")
			runtime.KeepAlive(values)
		})
	}
}
