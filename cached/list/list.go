package list

import (
	"bytes"
	"encoding/binary"
	"errors"
	"unsafe"

	"github.com/anvilstack/anvil/cached/store"
)

// safetyLimit is the byte size of a node under a positive fill (Redis's
// SIZE_SAFETY_LIMIT).
const safetyLimit = 8192

// maxNodeEntries bounds the elements of one node whatever the fill.
const maxNodeEntries = 1 << 16

// sizeLimits are the node byte sizes of fills -1 ... -5.
var sizeLimits = [...]int{4096, 8192, 16384, 32768, 65536}

// List is a list value. The zero value is not usable: use New.
type List struct {
	ring []*node // a ring of len(ring) slots, a power of two
	head int     // slot of the first node
	nn   int     // nodes in use
	n    int     // elements
	fill int     // list-max-listpack-size when the list was made
	mem  int     // bytes allocated, kept up to date
}

// node is a run of elements packed in buf[lo:hi].
type node struct {
	buf    []byte
	lo, hi int
	n      int
}

var (
	listSize = store.AllocSize(int(unsafe.Sizeof(List{})))
	nodeSize = store.AllocSize(int(unsafe.Sizeof(node{})))
)

// New returns an empty list whose nodes follow fill (Redis's
// list-max-listpack-size: > 0 elements per node, -1 ... -5 4 KiB ... 64
// KiB per node; other values are clamped to that range).
func New(fill int) *List {
	if fill == 0 {
		fill = 1
	}
	if fill < -len(sizeLimits) {
		fill = -len(sizeLimits)
	}
	return &List{fill: fill, mem: listSize}
}

// Kind implements store.Object.
func (l *List) Kind() store.Kind { return store.KindList }

// Encoding implements store.Object: Redis 7.0 reports every list as a
// quicklist.
func (l *List) Encoding() string { return "quicklist" }

// MemUsage implements store.Object.
func (l *List) MemUsage() int { return l.mem }

// Len is the number of elements.
func (l *List) Len() int { return l.n }

// Nodes is the number of nodes (for tests).
func (l *List) Nodes() int { return l.nn }

// --- element encoding ---

func uvarintLen(x int) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// entrySize is the encoded size of an element of length n.
func entrySize(n int) int { return 2*uvarintLen(n) + n }

// putEntry writes v's encoding at the start of dst (entrySize(len(v))
// bytes).
func putEntry(dst, v []byte) {
	k := binary.PutUvarint(dst, uint64(len(v)))
	copy(dst[k:], v)
	end := k + len(v) + k
	for i := 0; i < k; i++ {
		dst[end-1-i] = dst[i]
	}
}

// fwd decodes the element starting at off; next is where the next starts.
func fwd(buf []byte, off int) (v []byte, next int) {
	x, k := binary.Uvarint(buf[off:])
	start := off + k
	end := start + int(x)
	return buf[start:end:end], end + k
}

// back decodes the element ending at end; start is where it starts.
func back(buf []byte, end int) (v []byte, start int) {
	var x uint64
	k := 0
	for {
		b := buf[end-1-k]
		x |= uint64(b&0x7f) << (7 * k)
		k++
		if b < 0x80 {
			break
		}
	}
	vend := end - k
	vstart := vend - int(x)
	return buf[vstart:vend:vend], vstart - k
}

// --- nodes ---

func (l *List) limitBytes() int {
	if l.fill > 0 {
		return safetyLimit
	}
	return sizeLimits[-l.fill-1]
}

// allows reports whether nd may take one more element of encoded size sz.
func (l *List) allows(nd *node, sz int) bool {
	if nd.n == 0 {
		return true
	}
	if nd.n >= maxNodeEntries || (l.fill > 0 && nd.n >= l.fill) {
		return false
	}
	return nd.hi-nd.lo+sz <= l.limitBytes()
}

func (l *List) newNode(capacity int) *node {
	nd := &node{buf: make([]byte, store.AllocSize(max(capacity, 16)))}
	l.mem += nodeSize + cap(nd.buf)
	return nd
}

// reserve makes room for front bytes before and back bytes after nd's
// live bytes, moving them into a bigger buffer when needed.
func (l *List) reserve(nd *node, front, back int) {
	if nd.lo >= front && len(nd.buf)-nd.hi >= back {
		return
	}
	live := nd.hi - nd.lo
	need := live + front + back
	if need <= len(nd.buf) && nd.buf != nil {
		// Enough room overall: recentre in place.
		lo := front
		if back == 0 {
			lo = len(nd.buf) - live
		}
		copy(nd.buf[lo:], nd.buf[nd.lo:nd.hi])
		nd.lo, nd.hi = lo, lo+live
		return
	}
	newCap := store.AllocSize(max(need, 2*len(nd.buf), 16))
	buf := make([]byte, newCap)
	slack := newCap - need
	lo := front
	if front > 0 {
		lo += slack // growing towards the head: keep the slack there
	}
	copy(buf[lo:], nd.buf[nd.lo:nd.hi])
	l.mem += newCap - len(nd.buf)
	nd.buf, nd.lo, nd.hi = buf, lo, lo+live
}

// shrink gives back a node buffer that is mostly empty.
func (l *List) shrink(nd *node) {
	live := nd.hi - nd.lo
	if len(nd.buf) <= 256 || live >= len(nd.buf)/4 {
		return
	}
	buf := make([]byte, store.AllocSize(max(2*live, 16)))
	lo := (len(buf) - live) / 2
	copy(buf[lo:], nd.buf[nd.lo:nd.hi])
	l.mem += len(buf) - len(nd.buf)
	nd.buf, nd.lo, nd.hi = buf, lo, lo+live
}

// --- the ring of nodes ---

func (l *List) node(k int) *node { return l.ring[(l.head+k)&(len(l.ring)-1)] }

func (l *List) setNode(k int, nd *node) { l.ring[(l.head+k)&(len(l.ring)-1)] = nd }

func (l *List) growRing() {
	if l.nn < len(l.ring) {
		return
	}
	n := max(2*len(l.ring), 4)
	ring := make([]*node, n)
	for k := 0; k < l.nn; k++ {
		ring[k] = l.node(k)
	}
	l.mem += store.AllocSize(8*n) - store.AllocSize(8*len(l.ring))
	l.ring, l.head = ring, 0
}

// insertNode puts nd at position k (0 <= k <= nn), shifting the nodes
// from k on towards the nearer end.
func (l *List) insertNode(k int, nd *node) {
	l.growRing()
	mask := len(l.ring) - 1
	if k < l.nn-k {
		l.head = (l.head - 1) & mask
		for j := 0; j < k; j++ {
			l.setNode(j, l.node(j+1))
		}
	} else {
		for j := l.nn; j > k; j-- {
			l.setNode(j, l.node(j-1))
		}
	}
	l.setNode(k, nd)
	l.nn++
}

// removeNode unlinks the node at position k and forgets its memory.
func (l *List) removeNode(k int) {
	nd := l.node(k)
	l.mem -= nodeSize + len(nd.buf)
	mask := len(l.ring) - 1
	if k < l.nn-1-k {
		for j := k; j > 0; j-- {
			l.setNode(j, l.node(j-1))
		}
		l.setNode(0, nil)
		l.head = (l.head + 1) & mask
	} else {
		for j := k; j < l.nn-1; j++ {
			l.setNode(j, l.node(j+1))
		}
		l.setNode(l.nn-1, nil)
	}
	l.nn--
	if l.nn == 0 {
		l.head = 0
	}
	if len(l.ring) > 16 && l.nn < len(l.ring)/8 {
		ring := make([]*node, len(l.ring)/4)
		for j := 0; j < l.nn; j++ {
			ring[j] = l.node(j)
		}
		l.mem += store.AllocSize(8*len(ring)) - store.AllocSize(8*len(l.ring))
		l.ring, l.head = ring, 0
	}
}

// --- push and pop ---

// PushFront adds v at the head.
func (l *List) PushFront(v []byte) {
	sz := entrySize(len(v))
	var nd *node
	if l.nn > 0 && l.allows(l.node(0), sz) {
		nd = l.node(0)
	} else {
		nd = l.newNode(sz)
		nd.lo, nd.hi = len(nd.buf), len(nd.buf)
		l.insertNode(0, nd)
	}
	l.reserve(nd, sz, 0)
	nd.lo -= sz
	putEntry(nd.buf[nd.lo:], v)
	nd.n++
	l.n++
}

// PushBack adds v at the tail.
func (l *List) PushBack(v []byte) {
	sz := entrySize(len(v))
	var nd *node
	if l.nn > 0 && l.allows(l.node(l.nn-1), sz) {
		nd = l.node(l.nn - 1)
	} else {
		nd = l.newNode(sz)
		l.insertNode(l.nn, nd)
	}
	l.reserve(nd, 0, sz)
	putEntry(nd.buf[nd.hi:], v)
	nd.hi += sz
	nd.n++
	l.n++
}

// PopFront removes and returns the head element. The value stays valid
// until the list changes again.
func (l *List) PopFront() ([]byte, bool) {
	if l.n == 0 {
		return nil, false
	}
	nd := l.node(0)
	v, next := fwd(nd.buf, nd.lo)
	nd.lo = next
	nd.n--
	l.n--
	if nd.n == 0 {
		l.removeNode(0)
	}
	return v, true
}

// PopBack removes and returns the tail element (valid until the list
// changes again).
func (l *List) PopBack() ([]byte, bool) {
	if l.n == 0 {
		return nil, false
	}
	nd := l.node(l.nn - 1)
	v, start := back(nd.buf, nd.hi)
	nd.hi = start
	nd.n--
	l.n--
	if nd.n == 0 {
		l.removeNode(l.nn - 1)
	}
	return v, true
}

// --- positions ---

// norm turns a Redis index (negative from the tail) into 0..n-1; ok is
// false when it is out of range.
func (l *List) norm(i int) (int, bool) {
	if i < 0 {
		i += l.n
	}
	return i, i >= 0 && i < l.n
}

// locate finds node k holding element i (0 <= i < n) and i's position j
// in it.
func (l *List) locate(i int) (k, j int) {
	if i < l.n/2 {
		for k = 0; ; k++ {
			nd := l.node(k)
			if i < nd.n {
				return k, i
			}
			i -= nd.n
		}
	}
	r := l.n - 1 - i // position from the tail
	for k = l.nn - 1; ; k-- {
		nd := l.node(k)
		if r < nd.n {
			return k, nd.n - 1 - r
		}
		r -= nd.n
	}
}

// offset is where element j of nd starts.
func offset(nd *node, j int) int {
	if j < nd.n/2 {
		off := nd.lo
		for ; j > 0; j-- {
			_, off = fwd(nd.buf, off)
		}
		return off
	}
	end := nd.hi
	for r := nd.n - j; r > 0; r-- {
		_, end = back(nd.buf, end)
	}
	return end
}

// Index returns element i (negative counts from the tail).
func (l *List) Index(i int) ([]byte, bool) {
	i, ok := l.norm(i)
	if !ok {
		return nil, false
	}
	k, j := l.locate(i)
	nd := l.node(k)
	v, _ := fwd(nd.buf, offset(nd, j))
	return v, true
}

// Set replaces element i (negative counts from the tail) and reports
// whether it exists.
func (l *List) Set(i int, v []byte) bool {
	i, ok := l.norm(i)
	if !ok {
		return false
	}
	k, j := l.locate(i)
	nd := l.node(k)
	off := offset(nd, j)
	_, end := fwd(nd.buf, off)
	old, sz := end-off, entrySize(len(v))
	if nd.n > 1 && nd.hi-nd.lo-old+sz > l.limitBytes() {
		// The node would overflow: delete, then insert (which splits).
		l.DeleteRange(i, 1)
		l.Insert(i, v)
		return true
	}
	off = l.resizeAt(nd, off, old, sz)
	putEntry(nd.buf[off:], v)
	return true
}

// resizeAt turns the old bytes at off into sz bytes (their content is
// undefined), moving the tail of the node, and returns where they start
// now (the buffer may have moved).
func (l *List) resizeAt(nd *node, off, old, sz int) int {
	d := sz - old
	if d > 0 {
		rel := off - nd.lo
		l.reserve(nd, 0, d)
		off = nd.lo + rel
	}
	copy(nd.buf[off+sz:], nd.buf[off+old:nd.hi])
	nd.hi += d
	return off
}

// Insert adds v so that it becomes element i (0 <= i <= Len()).
func (l *List) Insert(i int, v []byte) {
	switch {
	case i <= 0:
		l.PushFront(v)
		return
	case i >= l.n:
		l.PushBack(v)
		return
	}
	sz := entrySize(len(v))
	k, j := l.locate(i)
	nd := l.node(k)
	if l.allows(nd, sz) {
		off := offset(nd, j)
		rel := off - nd.lo
		l.reserve(nd, 0, sz)
		off = nd.lo + rel
		copy(nd.buf[off+sz:], nd.buf[off:nd.hi])
		nd.hi += sz
		putEntry(nd.buf[off:], v)
		nd.n++
		l.n++
		return
	}
	if j == 0 && k > 0 && l.allows(l.node(k-1), sz) {
		prev := l.node(k - 1)
		l.reserve(prev, 0, sz)
		putEntry(prev.buf[prev.hi:], v)
		prev.hi += sz
		prev.n++
		l.n++
		return
	}
	if j > 0 {
		l.split(k, j)
		k++ // the element now heads node k+1
	}
	// v goes between nodes k-1 and k: at the tail of k-1 if it has room,
	// else in a node of its own.
	if k > 0 && l.allows(l.node(k-1), sz) {
		prev := l.node(k - 1)
		l.reserve(prev, 0, sz)
		putEntry(prev.buf[prev.hi:], v)
		prev.hi += sz
		prev.n++
	} else {
		nd := l.newNode(sz)
		putEntry(nd.buf, v)
		nd.hi, nd.n = sz, 1
		l.insertNode(k, nd)
	}
	l.n++
}

// split cuts node k before its element j (0 < j < n) into two nodes.
func (l *List) split(k, j int) {
	nd := l.node(k)
	off := offset(nd, j)
	tail := l.newNode(nd.hi - off)
	copy(tail.buf, nd.buf[off:nd.hi])
	tail.hi = nd.hi - off
	tail.n = nd.n - j
	nd.hi = off
	nd.n = j
	l.shrink(nd)
	l.insertNode(k+1, tail)
}

// DeleteRange removes count elements from element start on (0 <= start;
// the range is clipped to the list).
func (l *List) DeleteRange(start, count int) {
	if start < 0 || start >= l.n || count <= 0 {
		return
	}
	count = min(count, l.n-start)
	k, j := l.locate(start)
	for count > 0 {
		nd := l.node(k)
		take := min(count, nd.n-j)
		if take == nd.n {
			l.n -= take
			count -= take
			l.removeNode(k)
			j = 0
			continue
		}
		from := offset(nd, j)
		to := from
		for r := 0; r < take; r++ {
			_, to = fwd(nd.buf, to)
		}
		if from == nd.lo {
			nd.lo = to
		} else {
			copy(nd.buf[from:], nd.buf[to:nd.hi])
			nd.hi -= to - from
		}
		nd.n -= take
		l.n -= take
		count -= take
		l.shrink(nd)
		k++
		j = 0
	}
}

// RemoveMatches deletes elements equal to v: the first count from the
// head (count > 0), the last -count from the tail (count < 0), or all
// (count == 0). It returns how many it removed (LREM).
func (l *List) RemoveMatches(v []byte, count int) int {
	skip := 0
	if count < 0 {
		total := 0
		for it := l.Iter(0, false); ; {
			e, ok := it.Next()
			if !ok {
				break
			}
			if bytes.Equal(e, v) {
				total++
			}
		}
		skip = max(total+count, 0)
		count = -count
	}
	removed := 0
	for k := 0; k < l.nn; {
		nd := l.node(k)
		r, w := nd.lo, nd.lo
		kept := 0
		for r < nd.hi {
			e, next := fwd(nd.buf, r)
			if bytes.Equal(e, v) && (count == 0 || removed < count) {
				if skip > 0 {
					skip--
				} else {
					removed++
					r = next
					continue
				}
			}
			if w != r {
				copy(nd.buf[w:], nd.buf[r:next])
			}
			w += next - r
			r = next
			kept++
		}
		l.n -= nd.n - kept
		nd.n, nd.hi = kept, w
		if kept == 0 {
			l.removeNode(k)
			continue
		}
		l.shrink(nd)
		k++
		if count != 0 && removed == count {
			break
		}
	}
	return removed
}

// Copy returns an independent copy (COPY: it implements cached.Copier).
func (l *List) Copy() store.Object {
	cp := &List{fill: l.fill, mem: listSize}
	for k := 0; k < l.nn; k++ {
		nd := l.node(k)
		live := nd.hi - nd.lo
		nn := cp.newNode(live)
		copy(nn.buf, nd.buf[nd.lo:nd.hi])
		nn.hi, nn.n = live, nd.n
		cp.insertNode(cp.nn, nn)
	}
	cp.n = l.n
	return cp
}

// --- iteration ---

// Iter walks the list from one element towards the tail (or the head
// when reverse).
type Iter struct {
	l    *List
	k    int // node
	off  int // forward: start of the next element; reverse: end of it
	left int // elements left in node k
	rev  bool
}

// Iter returns an iterator whose first Next is element i (negative counts
// from the tail); an out-of-range i gives an empty iterator.
func (l *List) Iter(i int, reverse bool) Iter {
	it := Iter{l: l, rev: reverse}
	i, ok := l.norm(i)
	if !ok {
		it.k = l.nn // exhausted
		if reverse {
			it.k = -1
		}
		return it
	}
	k, j := l.locate(i)
	nd := l.node(k)
	it.k = k
	if reverse {
		_, end := fwd(nd.buf, offset(nd, j))
		it.off, it.left = end, j+1
	} else {
		it.off, it.left = offset(nd, j), nd.n-j
	}
	return it
}

// Next returns the next element (valid until the list changes).
func (it *Iter) Next() ([]byte, bool) {
	l := it.l
	for it.left == 0 {
		if it.rev {
			it.k--
			if it.k < 0 {
				return nil, false
			}
			nd := l.node(it.k)
			it.off, it.left = nd.hi, nd.n
		} else {
			it.k++
			if it.k >= l.nn {
				return nil, false
			}
			nd := l.node(it.k)
			it.off, it.left = nd.lo, nd.n
		}
	}
	nd := l.node(it.k)
	it.left--
	var v []byte
	if it.rev {
		v, it.off = back(nd.buf, it.off)
	} else {
		v, it.off = fwd(nd.buf, it.off)
	}
	return v, true
}

// --- snapshots ---

// AppendSnapshot appends the list for a snapshot: the number of elements
// as a uvarint, then every element as it is encoded in the nodes.
func (l *List) AppendSnapshot(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(l.n))
	for k := 0; k < l.nn; k++ {
		nd := l.node(k)
		b = append(b, nd.buf[nd.lo:nd.hi]...)
	}
	return b
}

// errCorrupt is the error of a snapshot that AppendSnapshot did not write.
var errCorrupt = errors.New("list: corrupt snapshot")

// Decode rebuilds a list with nodes of the given fill from what
// AppendSnapshot wrote. It rejects anything else without panicking.
func Decode(data []byte, fill int) (*List, error) {
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data)) || uvarintLen(int(n)) != k {
		return nil, errCorrupt
	}
	data = data[k:]
	l := New(fill)
	for i := uint64(0); i < n; i++ {
		x, k := binary.Uvarint(data)
		if k <= 0 || x > uint64(len(data)) || uint64(k)*2+x > uint64(len(data)) || uvarintLen(int(x)) != k {
			return nil, errCorrupt
		}
		end := k + int(x) + k
		for j := 0; j < k; j++ {
			if data[end-1-j] != data[j] {
				return nil, errCorrupt
			}
		}
		l.PushBack(data[k : k+int(x)])
		data = data[end:]
	}
	if len(data) != 0 {
		return nil, errCorrupt
	}
	return l, nil
}
