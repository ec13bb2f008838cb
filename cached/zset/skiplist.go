package zset

import (
	"math/rand/v2"
	"unsafe"
)

// The skiplist is William Pugh's, as Redis extends it: every forward link
// carries its span (how many nodes it jumps over) so the rank of a node is
// the sum of the spans walked to reach it, and level 0 has backward links
// for reverse walks. Levels are drawn with p = 1/4 up to 32.

const (
	maxLevel = 32
	// levelP is p = 1/4 as a threshold on 16 random bits.
	levelP = 0xFFFF / 4
)

type level struct {
	forward *node
	span    int
}

// node is a skiplist node. Its levels follow it in the same allocation
// (for up to four levels, about 99.6% of nodes): lv points at the first
// and the others come after it, so a one-level node is exactly one 64-byte
// cache line with its forward link next to its score.
type node struct {
	score    float64
	lv       *level // level 0; level i is at lv + i
	member   string
	backward *node
	idx      int32 // position in skiplist.nodes
	nlevel   int32
}

// lvl is level i of n (i < n.nlevel).
func (n *node) lvl(i int) *level {
	return (*level)(unsafe.Add(unsafe.Pointer(n.lv), uintptr(i)*unsafe.Sizeof(level{})))
}

type (
	node1 struct {
		n node
		l [1]level
	}
	node2 struct {
		n node
		l [2]level
	}
	node3 struct {
		n node
		l [3]level
	}
	node4 struct {
		n node
		l [4]level
	}
)

var (
	nodeSize  = int(unsafe.Sizeof(node{}))
	levelSize = int(unsafe.Sizeof(level{}))
)

// nodeMem is what a node of lvl levels takes from the allocator.
func nodeMem(lvl int) int {
	if lvl <= 4 {
		return allocSize(nodeSize + lvl*levelSize)
	}
	return allocSize(nodeSize) + allocSize(lvl*levelSize)
}

func newNode(lvl int, score float64, member string) *node {
	var n *node
	switch lvl {
	case 1:
		x := &node1{}
		x.n.lv = &x.l[0]
		n = &x.n
	case 2:
		x := &node2{}
		x.n.lv = &x.l[0]
		n = &x.n
	case 3:
		x := &node3{}
		x.n.lv = &x.l[0]
		n = &x.n
	case 4:
		x := &node4{}
		x.n.lv = &x.l[0]
		n = &x.n
	default:
		n = &node{lv: &make([]level, lvl)[0]}
	}
	n.nlevel = int32(lvl)
	n.score = score
	n.member = member
	return n
}

func randomLevel() int {
	lvl := 1
	for lvl < maxLevel && rand.Uint32()&0xFFFF < levelP {
		lvl++
	}
	return lvl
}

// less reports whether (score, member) of n orders before (score, member).
func (n *node) less(score float64, member string) bool {
	return n.score < score || (n.score == score && n.member < member)
}

// skiplist is the large encoding: the ordered list, the member index and
// the dense node slice.
type skiplist struct {
	header *node
	tail   *node
	length int
	level  int
	nodes  []*node // every node once, in no order; node.idx is its index
	index  memberIndex
}

func newSkiplist(hint int) *skiplist {
	sl := &skiplist{
		header: &node{lv: &make([]level, maxLevel)[0], nlevel: maxLevel},
		level:  1,
	}
	sl.index.init(hint)
	if hint > 0 {
		sl.nodes = make([]*node, 0, hint)
	}
	return sl
}

// findUpdate fills update with the last node before (score, member) at
// each level and rank with the rank of that node.
func (sl *skiplist) findUpdate(score float64, member string, update *[maxLevel]*node, rank *[maxLevel]int) {
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		if i == sl.level-1 {
			rank[i] = 0
		} else {
			rank[i] = rank[i+1]
		}
		for f := x.lvl(i).forward; f != nil && f.less(score, member); f = x.lvl(i).forward {
			rank[i] += x.lvl(i).span
			x = f
		}
		update[i] = x
	}
}

// link puts x (with its levels allocated, score and member set) in its
// place. The member must not be in the list.
func (sl *skiplist) link(x *node, update *[maxLevel]*node, rank *[maxLevel]int) {
	lvl := int(x.nlevel)
	if lvl > sl.level {
		for i := sl.level; i < lvl; i++ {
			rank[i] = 0
			update[i] = sl.header
			update[i].lvl(i).span = sl.length
		}
		sl.level = lvl
	}
	for i := 0; i < lvl; i++ {
		x.lvl(i).forward = update[i].lvl(i).forward
		update[i].lvl(i).forward = x
		x.lvl(i).span = update[i].lvl(i).span - (rank[0] - rank[i])
		update[i].lvl(i).span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < sl.level; i++ {
		update[i].lvl(i).span++
	}
	if update[0] == sl.header {
		x.backward = nil
	} else {
		x.backward = update[0]
	}
	if f := x.lvl(0).forward; f != nil {
		f.backward = x
	} else {
		sl.tail = x
	}
	sl.length++
}

// insert adds a new node; it returns the node and the bytes allocated.
func (sl *skiplist) insert(score float64, member string) (*node, int) {
	var update [maxLevel]*node
	var rank [maxLevel]int
	sl.findUpdate(score, member, &update, &rank)
	lvl := randomLevel()
	x := newNode(lvl, score, member)
	sl.link(x, &update, &rank)
	mem := nodeMem(lvl)
	x.idx = int32(len(sl.nodes))
	c := cap(sl.nodes)
	sl.nodes = append(sl.nodes, x)
	if cap(sl.nodes) != c {
		mem += allocSize(cap(sl.nodes)*ptrSize) - allocSize(c*ptrSize)
	}
	mem += sl.index.put(sl.nodes, member, int(x.idx), len(sl.nodes))
	return x, mem
}

// find is member's node, nil when absent.
func (sl *skiplist) find(member string) *node {
	if i := sl.index.find(sl.nodes, member); i >= 0 {
		return sl.nodes[sl.index.slots[i]-1]
	}
	return nil
}

// unlink takes x out of the list (not the index or the node slice).
func (sl *skiplist) unlink(x *node, update *[maxLevel]*node) {
	for i := 0; i < sl.level; i++ {
		if update[i].lvl(i).forward == x {
			update[i].lvl(i).span += x.lvl(i).span - 1
			update[i].lvl(i).forward = x.lvl(i).forward
		} else {
			update[i].lvl(i).span--
		}
	}
	if f := x.lvl(0).forward; f != nil {
		f.backward = x.backward
	} else {
		sl.tail = x.backward
	}
	for sl.level > 1 && sl.header.lvl(sl.level-1).forward == nil {
		sl.level--
	}
	sl.length--
}

// remove deletes x entirely and returns the bytes freed.
func (sl *skiplist) remove(x *node, update *[maxLevel]*node) int {
	sl.unlink(x, update)
	sl.index.remove(sl.nodes, sl.index.slotOf(x.member, int(x.idx)))
	last := len(sl.nodes) - 1
	if int(x.idx) != last {
		m := sl.nodes[last]
		sl.index.slots[sl.index.slotOf(m.member, last)] = x.idx + 1
		sl.nodes[x.idx] = m
		m.idx = x.idx
	}
	sl.nodes[last] = nil
	sl.nodes = sl.nodes[:last]
	return nodeMem(int(x.nlevel)) + allocSize(len(x.member))
}

// afterRemove shrinks the index and the node slice once they are mostly
// empty; it returns the change in bytes (negative).
func (sl *skiplist) afterRemove() int {
	delta := 0
	if c := cap(sl.nodes); c > 64 && len(sl.nodes) < c/4 {
		ns := make([]*node, len(sl.nodes), len(sl.nodes)*2)
		copy(ns, sl.nodes)
		sl.nodes = ns
		delta += allocSize(cap(ns)*ptrSize) - allocSize(c*ptrSize)
	}
	if c := len(sl.index.slots); c > 64 && len(sl.nodes) < c/8 {
		delta += sl.index.rebuild(sl.nodes, indexCapFor(len(sl.nodes)))
	}
	return delta
}

// delete removes the node of (score, member), which must exist.
func (sl *skiplist) delete(score float64, member string) int {
	var update [maxLevel]*node
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.lvl(i).forward; f != nil && f.less(score, member); f = x.lvl(i).forward {
			x = f
		}
		update[i] = x
	}
	x = x.lvl(0).forward
	return sl.remove(x, &update)
}

// updateScore moves x to newScore, in place when its position does not
// change.
func (sl *skiplist) updateScore(x *node, newScore float64) {
	if (x.backward == nil || x.backward.less(newScore, x.member)) &&
		(x.lvl(0).forward == nil || !x.lvl(0).forward.less(newScore, x.member)) {
		x.score = newScore
		return
	}
	var update [maxLevel]*node
	var rank [maxLevel]int
	y := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := y.lvl(i).forward; f != nil && f.less(x.score, x.member); f = y.lvl(i).forward {
			y = f
		}
		update[i] = y
	}
	sl.unlink(x, &update)
	x.score = newScore
	sl.findUpdate(newScore, x.member, &update, &rank)
	sl.link(x, &update, &rank)
}

// rank is the 1-based rank of (score, member), 0 when absent.
func (sl *skiplist) rank(score float64, member string) int {
	r := 0
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.lvl(i).forward; f != nil && (f.less(score, member) || (f.score == score && f.member == member)); f = x.lvl(i).forward {
			r += x.lvl(i).span
			x = f
		}
		if x != sl.header && x.score == score && x.member == member {
			return r
		}
	}
	return 0
}

// byRank is the node of 1-based rank r, nil when out of range.
func (sl *skiplist) byRank(r int) *node {
	if r < 1 || r > sl.length {
		return nil
	}
	traversed := 0
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for x.lvl(i).forward != nil && traversed+x.lvl(i).span <= r {
			traversed += x.lvl(i).span
			x = x.lvl(i).forward
		}
		if traversed == r {
			return x
		}
	}
	return nil
}

func (sl *skiplist) first() *node { return sl.header.lvl(0).forward }

func (sl *skiplist) isInRange(r *ScoreRange) bool {
	if r.empty() {
		return false
	}
	if sl.tail == nil || !r.GteMin(sl.tail.score) {
		return false
	}
	f := sl.first()
	return f != nil && r.LteMax(f.score)
}

func (sl *skiplist) firstInRange(r *ScoreRange) *node {
	if !sl.isInRange(r) {
		return nil
	}
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.lvl(i).forward; f != nil && !r.GteMin(f.score); f = x.lvl(i).forward {
			x = f
		}
	}
	x = x.lvl(0).forward
	if x == nil || !r.LteMax(x.score) {
		return nil
	}
	return x
}

func (sl *skiplist) lastInRange(r *ScoreRange) *node {
	if !sl.isInRange(r) {
		return nil
	}
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.lvl(i).forward; f != nil && r.LteMax(f.score); f = x.lvl(i).forward {
			x = f
		}
	}
	if x == sl.header || !r.GteMin(x.score) {
		return nil
	}
	return x
}

func (sl *skiplist) isInLexRange(r *LexRange) bool {
	if r.empty() {
		return false
	}
	if sl.tail == nil || !r.GteMin(sl.tail.member) {
		return false
	}
	f := sl.first()
	return f != nil && r.LteMax(f.member)
}

func (sl *skiplist) firstInLexRange(r *LexRange) *node {
	if !sl.isInLexRange(r) {
		return nil
	}
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.lvl(i).forward; f != nil && !r.GteMin(f.member); f = x.lvl(i).forward {
			x = f
		}
	}
	x = x.lvl(0).forward
	if x == nil || !r.LteMax(x.member) {
		return nil
	}
	return x
}

func (sl *skiplist) lastInLexRange(r *LexRange) *node {
	if !sl.isInLexRange(r) {
		return nil
	}
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.lvl(i).forward; f != nil && r.LteMax(f.member); f = x.lvl(i).forward {
			x = f
		}
	}
	if x == sl.header || !r.GteMin(x.member) {
		return nil
	}
	return x
}

// deleteRangeByScore removes the nodes in r; it returns how many and the
// bytes freed.
func (sl *skiplist) deleteRangeByScore(r *ScoreRange) (int, int) {
	var update [maxLevel]*node
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.lvl(i).forward; f != nil && !r.GteMin(f.score); f = x.lvl(i).forward {
			x = f
		}
		update[i] = x
	}
	x = x.lvl(0).forward
	n, freed := 0, 0
	for x != nil && r.LteMax(x.score) {
		next := x.lvl(0).forward
		freed += sl.remove(x, &update)
		n++
		x = next
	}
	return n, freed
}

func (sl *skiplist) deleteRangeByLex(r *LexRange) (int, int) {
	var update [maxLevel]*node
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.lvl(i).forward; f != nil && !r.GteMin(f.member); f = x.lvl(i).forward {
			x = f
		}
		update[i] = x
	}
	x = x.lvl(0).forward
	n, freed := 0, 0
	for x != nil && r.LteMax(x.member) {
		next := x.lvl(0).forward
		freed += sl.remove(x, &update)
		n++
		x = next
	}
	return n, freed
}

// deleteRangeByRank removes the nodes of 1-based ranks start..end.
func (sl *skiplist) deleteRangeByRank(start, end int) (int, int) {
	var update [maxLevel]*node
	traversed := 0
	x := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for x.lvl(i).forward != nil && traversed+x.lvl(i).span < start {
			traversed += x.lvl(i).span
			x = x.lvl(i).forward
		}
		update[i] = x
	}
	traversed++
	x = x.lvl(0).forward
	n, freed := 0, 0
	for x != nil && traversed <= end {
		next := x.lvl(0).forward
		freed += sl.remove(x, &update)
		n++
		traversed++
		x = next
	}
	return n, freed
}

// appender builds a skiplist from entries given in order, in O(1) each.
type appender struct {
	sl   *skiplist
	last [maxLevel]*node
	rank [maxLevel]int // rank of last[i]
}

func newAppender(sl *skiplist) *appender {
	a := &appender{sl: sl}
	for i := range a.last {
		a.last[i] = sl.header
	}
	return a
}

// add appends (score, member), which must order after every node so far;
// it returns the bytes allocated.
func (a *appender) add(score float64, member string) int {
	sl := a.sl
	lvl := randomLevel()
	x := newNode(lvl, score, member)
	if lvl > sl.level {
		sl.level = lvl
	}
	r := sl.length + 1
	for i := 0; i < lvl; i++ {
		a.last[i].lvl(i).forward = x
		a.last[i].lvl(i).span = r - a.rank[i]
		a.last[i] = x
		a.rank[i] = r
	}
	if sl.tail != nil {
		x.backward = sl.tail
	}
	sl.tail = x
	sl.length++
	x.idx = int32(len(sl.nodes))
	sl.nodes = append(sl.nodes, x)
	return nodeMem(lvl)
}

// finish sets the spans of the links that end the list: Redis keeps, for
// a level's last node, span = the nodes after it.
func (a *appender) finish() {
	sl := a.sl
	sl.index.rebuild(sl.nodes, indexCapFor(len(sl.nodes)))
	for i := 0; i < sl.level; i++ {
		a.last[i].lvl(i).span = sl.length - a.rank[i]
	}
}
