package store

import "unsafe"

// index maps a shard's keys to their entries. It is an open-addressing
// table (linear probing, backward-shift deletion, no tombstones) whose
// 16-byte slots hold an entry and the upper 32 bits of its key's hash,
// which the entry also keeps (Entry.tag):
//
//   - a store call hashes its key once: the same 64-bit hash picks the
//     shard (its low bits) and the home slot (its upper half);
//   - a lookup that misses or hits reads one run of slots, and compares
//     key bytes only where the tags match;
//   - deleting an entry (eviction, expiry) finds its slot from e.tag by
//     comparing pointers: the key's bytes, cold by then, are not read.
//     With a Go map, hashing the evicted key was 11% of the server's
//     CPU under eviction.
//
// At most 3/4 of the slots are used, so a probe always ends at an empty
// slot.
type index struct {
	slots []slot
	n     int
}

type slot struct {
	tag uint32
	e   *Entry // nil: empty
}

const minIndexSlots = 8

// tagOf is the part of a key's 64-bit hash an index uses; the low bits
// choose the shard.
func tagOf(h uint64) uint32 { return uint32(h >> 32) }

// get returns the entry of key, whose hash tag is tag, or nil.
func (x *index) get(key []byte, tag uint32) *Entry {
	if x.n == 0 {
		return nil
	}
	mask := uint32(len(x.slots) - 1)
	for i := tag & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.e == nil {
			return nil
		}
		if s.tag == tag && s.e.key == string(key) {
			return s.e
		}
	}
}

// getString is get for a key held as a string.
func (x *index) getString(key string, tag uint32) *Entry {
	return x.get(unsafe.Slice(unsafe.StringData(key), len(key)), tag)
}

// add records e, whose key is not in the index, under e.tag.
func (x *index) add(e *Entry) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.resize(max(minIndexSlots, len(x.slots)*2))
	}
	x.put(slot{e.tag, e})
	x.n++
}

func (x *index) put(s slot) {
	mask := uint32(len(x.slots) - 1)
	i := s.tag & mask
	for x.slots[i].e != nil {
		i = (i + 1) & mask
	}
	x.slots[i] = s
}

// resize rebuilds the table with size slots, from the tags alone.
func (x *index) resize(size int) {
	old := x.slots
	x.slots = make([]slot, size)
	for _, s := range old {
		if s.e != nil {
			x.put(s)
		}
	}
}

// del forgets e, which must be in the index. The table shrinks when it
// falls below 1/8 full.
func (x *index) del(e *Entry) {
	mask := uint32(len(x.slots) - 1)
	i := e.tag & mask
	for x.slots[i].e != e {
		i = (i + 1) & mask
	}
	// Empty slot i, then shift back the entries of its probe run that
	// would no longer be found past the hole.
	for {
		x.slots[i] = slot{}
		j := i
		for {
			j = (j + 1) & mask
			s := x.slots[j]
			if s.e == nil {
				x.n--
				if len(x.slots) > minIndexSlots && x.n*8 < len(x.slots) {
					x.shrink()
				}
				return
			}
			// The entry at j may stay when the hole at i is not on its
			// probe path: its home is at most as far back as the hole.
			if (j-s.tag)&mask < (j-i)&mask {
				continue
			}
			x.slots[i] = s
			i = j
			break
		}
	}
}

// shrink resizes the table to the smallest size at most half full.
func (x *index) shrink() {
	size := minIndexSlots
	for size < x.n*2 {
		size *= 2
	}
	x.resize(size)
}
