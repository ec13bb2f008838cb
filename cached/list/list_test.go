package list

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/anvilstack/anvil/cached/store"
)

// check compares l with the model and verifies the memory total.
func check(t *testing.T, l *List, model [][]byte, step string) {
	t.Helper()
	if l.Len() != len(model) {
		t.Fatalf("%s: Len %d, want %d", step, l.Len(), len(model))
	}
	it := l.Iter(0, false)
	for i, want := range model {
		got, ok := it.Next()
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("%s: forward element %d = %q %v, want %q", step, i, got, ok, want)
		}
	}
	if _, ok := it.Next(); ok {
		t.Fatalf("%s: forward iterator went past the end", step)
	}
	it = l.Iter(-1, true)
	for i := len(model) - 1; i >= 0; i-- {
		got, ok := it.Next()
		if !ok || !bytes.Equal(got, model[i]) {
			t.Fatalf("%s: reverse element %d = %q %v, want %q", step, i, got, ok, model[i])
		}
	}
	if _, ok := it.Next(); ok {
		t.Fatalf("%s: reverse iterator went past the head", step)
	}
	mem := listSize + store.AllocSize(8*len(l.ring))
	n := 0
	for k := 0; k < l.nn; k++ {
		nd := l.node(k)
		if nd.n == 0 {
			t.Fatalf("%s: empty node %d kept", step, k)
		}
		n += nd.n
		mem += nodeSize + len(nd.buf)
	}
	if n != l.n {
		t.Fatalf("%s: node counts sum to %d, list says %d", step, n, l.n)
	}
	if mem != l.mem {
		t.Fatalf("%s: mem %d, recomputed %d", step, l.mem, mem)
	}
}

func randValue(r *rand.Rand) []byte {
	var n int
	switch x := r.IntN(100); {
	case x < 2:
		n = 9000 + r.IntN(70000) // bigger than any node: a node of its own
	case x < 10:
		n = 100 + r.IntN(400)
	default:
		n = r.IntN(20)
	}
	v := make([]byte, n)
	for i := range v {
		v[i] = byte('a' + r.IntN(4))
	}
	return v
}

func TestListModel(t *testing.T) {
	for _, fill := range []int{1, 2, 5, 128, -1, -2, -5} {
		t.Run(fmt.Sprintf("fill=%d", fill), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(fill+10), 7))
			l := New(fill)
			var model [][]byte
			steps := 3000
			if testing.Short() {
				steps = 1000
			}
			for s := 0; s < steps; s++ {
				op := r.IntN(12)
				var step string
				switch op {
				case 0, 1:
					v := randValue(r)
					l.PushFront(v)
					model = append([][]byte{v}, model...)
					step = "pushfront"
				case 2, 3:
					v := randValue(r)
					l.PushBack(v)
					model = append(model, v)
					step = "pushback"
				case 4:
					v, ok := l.PopFront()
					if ok != (len(model) > 0) || (ok && !bytes.Equal(v, model[0])) {
						t.Fatalf("popfront = %q %v", v, ok)
					}
					if ok {
						model = model[1:]
					}
					step = "popfront"
				case 5:
					v, ok := l.PopBack()
					if ok != (len(model) > 0) || (ok && !bytes.Equal(v, model[len(model)-1])) {
						t.Fatalf("popback = %q %v", v, ok)
					}
					if ok {
						model = model[:len(model)-1]
					}
					step = "popback"
				case 6:
					i := r.IntN(len(model) + 1)
					v := randValue(r)
					l.Insert(i, v)
					model = append(model[:i], append([][]byte{v}, model[i:]...)...)
					step = fmt.Sprintf("insert %d", i)
				case 7:
					if len(model) == 0 {
						continue
					}
					i := r.IntN(len(model))
					v := randValue(r)
					if !l.Set(i-len(model)*r.IntN(2), v) {
						t.Fatal("set failed")
					}
					model[i] = v
					step = fmt.Sprintf("set %d", i)
				case 8:
					if len(model) == 0 {
						continue
					}
					i := r.IntN(len(model))
					cnt := r.IntN(10)
					l.DeleteRange(i, cnt)
					model = append(model[:i], model[min(i+cnt, len(model)):]...)
					step = fmt.Sprintf("delrange %d %d", i, cnt)
				case 9:
					v := randValue(r)
					if len(model) > 0 && r.IntN(2) == 0 {
						v = model[r.IntN(len(model))]
					}
					v = append([]byte(nil), v...)
					cnt := r.IntN(5) - 2
					got := l.RemoveMatches(v, cnt)
					want := 0
					if cnt >= 0 {
						out := model[:0:0]
						for _, e := range model {
							if bytes.Equal(e, v) && (cnt == 0 || want < cnt) {
								want++
								continue
							}
							out = append(out, e)
						}
						model = out
					} else {
						var out [][]byte
						for i := len(model) - 1; i >= 0; i-- {
							if bytes.Equal(model[i], v) && want < -cnt {
								want++
								continue
							}
							out = append([][]byte{model[i]}, out...)
						}
						model = out
					}
					if got != want {
						t.Fatalf("removematches %q %d = %d, want %d", v, cnt, got, want)
					}
					step = "lrem"
				case 10:
					if len(model) == 0 {
						continue
					}
					i := r.IntN(2*len(model)) - len(model)
					v, ok := l.Index(i)
					j := i
					if j < 0 {
						j += len(model)
					}
					if !ok || !bytes.Equal(v, model[j]) {
						t.Fatalf("index %d = %q %v, want %q", i, v, ok, model[j])
					}
					continue
				case 11:
					cp := l.Copy().(*List)
					check(t, cp, model, "copy")
					continue
				}
				check(t, l, model, step)
			}
		})
	}
}

func TestIndexOutOfRange(t *testing.T) {
	l := New(-2)
	for i := range 10 {
		l.PushBack([]byte{byte('0' + i)})
	}
	for _, i := range []int{10, 11, -11, -100} {
		if _, ok := l.Index(i); ok {
			t.Errorf("Index(%d) found an element", i)
		}
		if l.Set(i, []byte("x")) {
			t.Errorf("Set(%d) succeeded", i)
		}
		if it := l.Iter(i, false); func() bool { _, ok := it.Next(); return ok }() {
			t.Errorf("Iter(%d) returned an element", i)
		}
	}
	if v, _ := l.Index(-10); string(v) != "0" {
		t.Errorf("Index(-10) = %q", v)
	}
}

// TestMemoryAccountingMatchesHeap checks that MemUsage tracks what the Go
// heap really holds for many lists.
func TestMemoryAccountingMatchesHeap(t *testing.T) {
	const lists = 2000
	keep := make([]*List, lists)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	total := 0
	for i := range keep {
		l := New(-2)
		for j := 0; j < 200; j++ {
			if j%2 == 0 {
				l.PushBack(fmt.Appendf(nil, "element-%d", j))
			} else {
				l.PushFront(fmt.Appendf(nil, "e%d", j))
			}
		}
		keep[i] = l
		total += l.MemUsage()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int(after.HeapAlloc - before.HeapAlloc)
	ratio := float64(total) / float64(heap)
	t.Logf("accounted %d bytes, heap grew %d (ratio %.3f)", total, heap, ratio)
	if ratio < 0.9 || ratio > 1.1 {
		t.Errorf("accounted/heap = %.3f, want within 10%%", ratio)
	}
	runtime.KeepAlive(keep)
}

func BenchmarkPushPop(b *testing.B) {
	v := []byte("some-value-16byt")
	for _, n := range []int{16, 4096} {
		b.Run(fmt.Sprintf("len=%d", n), func(b *testing.B) {
			l := New(-2)
			for range n {
				l.PushBack(v)
			}
			b.ReportAllocs()
			for b.Loop() {
				l.PushBack(v)
				l.PopFront()
			}
		})
	}
}

func BenchmarkIndex(b *testing.B) {
	l := New(-2)
	for i := range 100000 {
		l.PushBack(fmt.Appendf(nil, "%d", i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l.Index(i % 100000)
		i += 7919
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 500} {
		l := New(-2)
		var model [][]byte
		for range n {
			v := randValue(r)
			l.PushBack(v)
			model = append(model, v)
		}
		snap := l.AppendSnapshot(nil)
		got, err := Decode(snap, 5)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		check(t, got, model, fmt.Sprintf("decode n=%d", n))
		for cut := 0; cut < len(snap) && cut < 64; cut++ {
			if _, err := Decode(snap[:cut], -2); err == nil && cut != len(snap) {
				t.Fatalf("n=%d: a snapshot cut at %d decoded", n, cut)
			}
		}
	}
}

// FuzzDecode feeds arbitrary bytes to Decode: it must reject or rebuild
// them without panicking, and what it rebuilds must snapshot back the
// same.
func FuzzDecode(f *testing.F) {
	l := New(-2)
	for _, v := range []string{"a", "", "hello world", string(make([]byte, 200))} {
		l.PushBack([]byte(v))
	}
	f.Add(l.AppendSnapshot(nil))
	f.Add([]byte{0})
	f.Add([]byte{1, 1, 'x', 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Decode(data, 3)
		if err != nil {
			return
		}
		if again := got.AppendSnapshot(nil); !bytes.Equal(again, data) {
			t.Fatalf("snapshot %x decoded and re-encoded as %x", data, again)
		}
	})
}
