package zset

import "hash/maphash"

// memberIndex maps a member to its node: an open-addressing table (linear
// probing, deletion by backward shift) of positions in the skiplist's
// dense node slice. At 4 bytes a slot it costs about a tenth of a Go map
// keyed by the member string, which would hold a 24-byte slot per member
// at up to half load after growing.
type memberIndex struct {
	slots []int32 // node position + 1; 0 is an empty slot
	seed  maphash.Seed
}

// indexCapFor is the slot count for n members (load at most 3/4).
func indexCapFor(n int) int {
	c := 8
	for n > c*3/4 {
		c *= 2
	}
	return c
}

func (ix *memberIndex) init(n int) {
	ix.seed = maphash.MakeSeed()
	ix.slots = make([]int32, indexCapFor(n))
}

func (ix *memberIndex) mem() int { return allocSize(cap(ix.slots) * 4) }

func (ix *memberIndex) home(m string) int {
	return int(maphash.String(ix.seed, m)) & (len(ix.slots) - 1)
}

// find is the slot holding member m, -1 when absent.
func (ix *memberIndex) find(nodes []*node, m string) int {
	mask := len(ix.slots) - 1
	for i := ix.home(m); ; i = (i + 1) & mask {
		v := ix.slots[i]
		if v == 0 {
			return -1
		}
		if nodes[v-1].member == m {
			return i
		}
	}
}

// slotOf is the slot holding position pos (whose member is m).
func (ix *memberIndex) slotOf(m string, pos int) int {
	mask := len(ix.slots) - 1
	for i := ix.home(m); ; i = (i + 1) & mask {
		if int(ix.slots[i]) == pos+1 {
			return i
		}
	}
}

// put stores position pos for member m, which is absent; n is the member
// count after the insert. It returns the change in bytes.
func (ix *memberIndex) put(nodes []*node, m string, pos, n int) int {
	delta := 0
	if n > len(ix.slots)*3/4 {
		delta = ix.rebuild(nodes[:n-1], indexCapFor(n))
	}
	mask := len(ix.slots) - 1
	i := ix.home(m)
	for ix.slots[i] != 0 {
		i = (i + 1) & mask
	}
	ix.slots[i] = int32(pos + 1)
	return delta
}

// remove empties slot i, shifting back the entries after it that probed
// past it.
func (ix *memberIndex) remove(nodes []*node, i int) {
	mask := len(ix.slots) - 1
	j := i
	for {
		j = (j + 1) & mask
		v := ix.slots[j]
		if v == 0 {
			break
		}
		k := ix.home(nodes[v-1].member)
		// The entry at j may fill the hole at i unless its home lies
		// cyclically in (i, j].
		if (i <= j && (k <= i || k > j)) || (i > j && k <= i && k > j) {
			ix.slots[i] = v
			i = j
		}
	}
	ix.slots[i] = 0
}

// rebuild re-creates the table with size slots for nodes; it returns
// the change in bytes.
func (ix *memberIndex) rebuild(nodes []*node, size int) int {
	old := ix.mem()
	ix.slots = make([]int32, size)
	mask := size - 1
	for pos, x := range nodes {
		i := ix.home(x.member)
		for ix.slots[i] != 0 {
			i = (i + 1) & mask
		}
		ix.slots[i] = int32(pos + 1)
	}
	return ix.mem() - old
}
