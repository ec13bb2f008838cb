package store

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestIndexModel runs random adds, lookups and deletes against a Go map.
// Tags are drawn from a few values (and from the top of the range, so
// that probe runs wrap around the end of the table): most keys collide,
// which exercises the tag check, the key comparison and the backward
// shift of long runs.
func TestIndexModel(t *testing.T) {
	for _, tags := range []uint32{1, 3, 64, 1 << 20} {
		t.Run(strconv.Itoa(int(tags)), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tags)))
			var x index
			model := map[string]*Entry{}
			tagOfKey := func(k string) uint32 {
				var h uint32
				for i := 0; i < len(k); i++ {
					h = h*31 + uint32(k[i])
				}
				return ^uint32(0) - h%tags
			}
			check := func(step int, k string) {
				t.Helper()
				got := x.getString(k, tagOfKey(k))
				if got != model[k] {
					t.Fatalf("step %d: get(%q) = %p, want %p", step, k, got, model[k])
				}
			}
			maxN := 0
			for step := range 20000 {
				maxN = max(maxN, x.n)
				// grow to ~600 keys, then down to ~200, twice
				phase := (step / 5000) % 2
				k := "k" + strconv.Itoa(rng.IntN(800))
				addP := 6 // of 10, then 2 while shrinking; deletes take up to 8
				if phase == 1 {
					addP = 2
				}
				switch op := rng.IntN(10); {
				case op < addP && model[k] == nil:
					e := &Entry{key: k, tag: tagOfKey(k)}
					x.add(e)
					model[k] = e
				case op >= addP && op < 8 && model[k] != nil:
					x.del(model[k])
					delete(model, k)
				}
				check(step, k)
				if x.n != len(model) {
					t.Fatalf("step %d: n = %d, model has %d", step, x.n, len(model))
				}
				if step%997 == 0 {
					for mk := range model {
						check(step, mk)
					}
					check(step, "absent")
				}
			}
			if maxN < 500 || len(model) > 300 {
				t.Fatalf("the index peaked at %d keys and ended with %d: the phases did not grow and shrink it", maxN, len(model))
			}
			for k, e := range model {
				x.del(e)
				delete(model, k)
				for mk := range model {
					check(-1, mk)
				}
			}
			if x.n != 0 || len(x.slots) != minIndexSlots {
				t.Fatalf("emptied index: n = %d, %d slots; want 0, %d", x.n, len(x.slots), minIndexSlots)
			}
		})
	}
}
