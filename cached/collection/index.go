package collection

import "hash/maphash"

// index is an open-addressing hash index (linear probing, backward-shift
// deletion, no tombstones) over a dense slice of distinct strings that
// its owner keeps: it maps a string to its position in that slice.
//
// A slot holds the low 32 bits of the key's hash (its tag) in its upper
// half and the key's position plus one in its lower half; 0 is an empty
// slot. The tag gives a key's home slot without hashing it again (when
// resizing, or shifting entries back after a deletion) and filters out
// almost every non-matching slot without touching the key's bytes. At
// most 3/4 of the slots are used: about 11 bytes per key, against ~40 for
// a Go map[string]int32.
type index struct {
	slots []uint64
	seed  maphash.Seed
}

const minSlots = 8

func (x *index) hash(k string) uint32 { return uint32(maphash.String(x.seed, k)) }

// init sizes an empty index for n keys.
func (x *index) init(n int) {
	x.seed = maphash.MakeSeed()
	x.slots = make([]uint64, slotsFor(n))
}

// slotsFor is the table size for n keys: a power of two at most 3/4 full.
func slotsFor(n int) int {
	s := minSlots
	for s*3 < n*4 {
		s *= 2
	}
	return s
}

// find returns k's position in keys, or -1.
func (x *index) find(keys []string, k string) int {
	tag := x.hash(k)
	mask := uint32(len(x.slots) - 1)
	for i := tag & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return -1
		}
		if uint32(s>>32) == tag {
			if p := int(uint32(s)) - 1; keys[p] == k {
				return p
			}
		}
	}
}

// insert records that keys[pos] (absent until now) is at pos; n is the
// number of keys including it.
func (x *index) insert(k string, pos, n int) {
	if n*4 > len(x.slots)*3 {
		x.resize(len(x.slots) * 2)
	}
	x.put(uint64(x.hash(k))<<32 | uint64(pos+1))
}

func (x *index) put(s uint64) {
	mask := uint32(len(x.slots) - 1)
	for i := uint32(s>>32) & mask; ; i = (i + 1) & mask {
		if x.slots[i] == 0 {
			x.slots[i] = s
			return
		}
	}
}

// resize rebuilds the table with size slots, from the tags alone.
func (x *index) resize(size int) {
	old := x.slots
	x.slots = make([]uint64, size)
	for _, s := range old {
		if s != 0 {
			x.put(s)
		}
	}
}

// slotOf returns the slot that holds position pos of key k.
func (x *index) slotOf(k string, pos int) uint32 {
	mask := uint32(len(x.slots) - 1)
	want := uint32(pos + 1)
	for i := x.hash(k) & mask; ; i = (i + 1) & mask {
		if uint32(x.slots[i]) == want {
			return i
		}
	}
}

// remove forgets keys[pos] and re-points the slot of the last key, which
// the owner moves into pos (unless pos is last): the owner then does
// keys[pos] = keys[last] and shortens keys by one. The table shrinks
// when it falls below 1/8 full.
func (x *index) remove(keys []string, pos int) {
	x.deleteSlot(x.slotOf(keys[pos], pos))
	last := len(keys) - 1
	if pos != last {
		i := x.slotOf(keys[last], last)
		x.slots[i] = x.slots[i]&^0xffffffff | uint64(pos+1)
	}
	if n := len(keys) - 1; len(x.slots) > minSlots && n*8 < len(x.slots) {
		x.resize(slotsFor(n * 2))
	}
}

// deleteSlot empties slot i and shifts back the entries of its probe run
// that would no longer be found.
func (x *index) deleteSlot(i uint32) {
	mask := uint32(len(x.slots) - 1)
	for {
		x.slots[i] = 0
		j := i
		for {
			j = (j + 1) & mask
			s := x.slots[j]
			if s == 0 {
				return
			}
			home := uint32(s>>32) & mask
			// The entry at j may stay when its home lies cyclically in
			// (i, j]: the hole at i is not on its probe path.
			if i <= j {
				if i < home && home <= j {
					continue
				}
			} else if i < home || home <= j {
				continue
			}
			x.slots[i] = s
			i = j
			break
		}
	}
}

// mem is the bytes the index allocates.
func (x *index) mem() int { return allocSize(len(x.slots) * 8) }

// clone returns a copy with its own slots (and the same seed: the tags
// stay valid).
func (x *index) clone() index {
	return index{slots: append([]uint64(nil), x.slots...), seed: x.seed}
}
