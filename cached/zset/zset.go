package zset

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"unsafe"

	"github.com/anvilstack/anvil/cached/store"
)

// Entry is a member and its score.
type Entry struct {
	Member string
	Score  float64
}

// Less orders entries as a sorted set does: by score, then member bytes.
func (e *Entry) less(score float64, member string) bool {
	return e.Score < score || (e.Score == score && e.Member < member)
}

// Limits are the encoding thresholds (zset-max-listpack-entries and
// zset-max-listpack-value).
type Limits struct {
	MaxListpackEntries int64
	MaxListpackValue   int64
}

// DefaultLimits are Redis's defaults.
var DefaultLimits = Limits{MaxListpackEntries: 128, MaxListpackValue: 64}

// listpackSafety is Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack never
// grows past 1 GB.
const listpackSafety = 1 << 30

// lpEntryOverhead is roughly what a listpack spends on an entry beyond
// its member bytes (encodings, back lengths, the score as a string).
const lpEntryOverhead = 12

// Fits reports whether a set of n members, the longest maxLen bytes and
// totLen bytes in all, gets the small encoding (Redis's
// zsetConvertToListpackIfNeeded).
func (l Limits) Fits(n, maxLen, totLen int) bool {
	return int64(n) <= l.MaxListpackEntries && int64(maxLen) <= l.MaxListpackValue &&
		totLen+n*lpEntryOverhead <= listpackSafety
}

// ZSet is a sorted set. The zero value is not usable: use New.
type ZSet struct {
	lp      []Entry // the small encoding, sorted; unused once sl is set
	lpBytes int     // approximate listpack size, for the 1 GB limit
	sl      *skiplist
	mem     int
}

var (
	zsetSize     = int(unsafe.Sizeof(ZSet{}))
	entrySize    = int(unsafe.Sizeof(Entry{}))
	skiplistSize = int(unsafe.Sizeof(skiplist{}))
	ptrSize      = int(unsafe.Sizeof(uintptr(0)))
)

// headerMem is the skiplist's fixed cost: the struct and its header node
// with every level.
var headerMem = allocSize(skiplistSize) + allocSize(nodeSize) + allocSize(maxLevel*levelSize)

// New returns an empty sorted set in the small encoding (listpack) or the
// large one (skiplist); hint is the expected size.
func New(listpack bool, hint int) *ZSet {
	z := &ZSet{}
	if listpack {
		if hint > 0 {
			z.lp = make([]Entry, 0, hint)
		}
	} else {
		z.sl = newSkiplist(hint)
	}
	z.mem = z.fixedMem()
	return z
}

// fixedMem is what the set takes beyond its members.
func (z *ZSet) fixedMem() int {
	if z.sl == nil {
		return allocSize(zsetSize) + allocSize(cap(z.lp)*entrySize)
	}
	return allocSize(zsetSize) + headerMem + mapMem(z.sl.dictCap) + allocSize(cap(z.sl.nodes)*ptrSize)
}

// lpScore is a score as a listpack keeps it: Redis stores integral
// scores as integers there, so -0 becomes 0.
func lpScore(f float64) float64 {
	if f == 0 {
		return 0
	}
	return f
}

// Kind implements store.Object.
func (z *ZSet) Kind() store.Kind { return store.KindZSet }

// Encoding implements store.Object: "listpack" or "skiplist".
func (z *ZSet) Encoding() string {
	if z.sl == nil {
		return "listpack"
	}
	return "skiplist"
}

// IsListpack reports whether the set has the small encoding.
func (z *ZSet) IsListpack() bool { return z.sl == nil }

// MemUsage implements store.Object.
func (z *ZSet) MemUsage() int { return z.mem }

// Len is the number of members.
func (z *ZSet) Len() int {
	if z.sl == nil {
		return len(z.lp)
	}
	return z.sl.length
}

func (z *ZSet) lpFind(member []byte) int {
	m := str(member)
	for i := range z.lp {
		if z.lp[i].Member == m {
			return i
		}
	}
	return -1
}

// lpSearch is the index where (score, member) belongs.
func (z *ZSet) lpSearch(score float64, member string) int {
	lo, hi := 0, len(z.lp)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if z.lp[m].less(score, member) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (z *ZSet) lpInsertAt(i int, e Entry) {
	c := cap(z.lp)
	z.lp = append(z.lp, Entry{})
	copy(z.lp[i+1:], z.lp[i:])
	z.lp[i] = e
	if cap(z.lp) != c {
		z.mem += allocSize(cap(z.lp)*entrySize) - allocSize(c*entrySize)
	}
}

func (z *ZSet) lpRemoveAt(i int) {
	copy(z.lp[i:], z.lp[i+1:])
	z.lp[len(z.lp)-1] = Entry{}
	z.lp = z.lp[:len(z.lp)-1]
}

// lpShrink gives back a mostly empty slice.
func (z *ZSet) lpShrink() {
	if c := cap(z.lp); c > 16 && len(z.lp) < c/4 {
		lp := make([]Entry, len(z.lp), len(z.lp)*2)
		copy(lp, z.lp)
		z.lp = lp
		z.mem += allocSize(cap(lp)*entrySize) - allocSize(c*entrySize)
	}
}

// Score is member's score.
func (z *ZSet) Score(member []byte) (float64, bool) {
	if z.sl == nil {
		if i := z.lpFind(member); i >= 0 {
			return z.lp[i].Score, true
		}
		return 0, false
	}
	if n := z.sl.dict[string(member)]; n != nil {
		return n.score, true
	}
	return 0, false
}

// AddFlags are ZADD's options.
type AddFlags uint8

// ZADD's options.
const (
	AddIncr AddFlags = 1 << iota
	AddNX
	AddXX
	AddGT
	AddLT
)

// AddResult says what Add did (Redis's ZADD_OUT_* flags).
type AddResult uint8

// Add's results; none set means the member was there with that score.
const (
	ResultNaN AddResult = 1 << iota
	ResultAdded
	ResultUpdated
	ResultNop
)

// Add adds member or updates its score with Redis's zsetAdd semantics.
// It returns what it did and the member's new score (for INCR). A
// NaN score, given or reached by an increment, changes nothing and
// returns ResultNaN. Adding may convert the set to the skiplist encoding.
func (z *ZSet) Add(member []byte, score float64, flags AddFlags, lim Limits) (AddResult, float64) {
	if math.IsNaN(score) {
		return ResultNaN, 0
	}
	incr, nx, xx := flags&AddIncr != 0, flags&AddNX != 0, flags&AddXX != 0
	gt, lt := flags&AddGT != 0, flags&AddLT != 0
	if z.sl == nil {
		if i := z.lpFind(member); i >= 0 {
			if nx {
				return ResultNop, 0
			}
			cur := z.lp[i].Score
			if incr {
				score += cur
				if math.IsNaN(score) {
					return ResultNaN, 0
				}
			}
			if (lt && score >= cur) || (gt && score <= cur) {
				return ResultNop, 0
			}
			if score != cur {
				e := z.lp[i]
				z.lpRemoveAt(i)
				e.Score = lpScore(score)
				z.lpInsertAt(z.lpSearch(score, e.Member), e)
				return ResultUpdated, score
			}
			return 0, score
		}
		if xx {
			return ResultNop, 0
		}
		if int64(len(z.lp)+1) > lim.MaxListpackEntries || int64(len(member)) > lim.MaxListpackValue ||
			z.lpBytes+len(member)+lpEntryOverhead > listpackSafety {
			z.toSkiplist()
		} else {
			m := string(member)
			z.lpInsertAt(z.lpSearch(score, m), Entry{m, lpScore(score)})
			z.lpBytes += len(m) + lpEntryOverhead
			z.mem += allocSize(len(m))
			return ResultAdded, score
		}
	}
	if n := z.sl.dict[string(member)]; n != nil {
		if nx {
			return ResultNop, 0
		}
		cur := n.score
		if incr {
			score += cur
			if math.IsNaN(score) {
				return ResultNaN, 0
			}
		}
		if (lt && score >= cur) || (gt && score <= cur) {
			return ResultNop, 0
		}
		if score != cur {
			z.sl.updateScore(n, score)
			return ResultUpdated, score
		}
		return 0, score
	}
	if xx {
		return ResultNop, 0
	}
	m := string(member)
	_, mem := z.sl.insert(score, m)
	z.mem += mem + allocSize(len(m))
	return ResultAdded, score
}

// Delete removes member; it reports whether it was there.
func (z *ZSet) Delete(member []byte) bool {
	if z.sl == nil {
		i := z.lpFind(member)
		if i < 0 {
			return false
		}
		z.lpBytes -= len(z.lp[i].Member) + lpEntryOverhead
		z.mem -= allocSize(len(z.lp[i].Member))
		z.lpRemoveAt(i)
		z.lpShrink()
		return true
	}
	n := z.sl.dict[string(member)]
	if n == nil {
		return false
	}
	z.mem -= z.sl.delete(n.score, n.member)
	z.afterRemove()
	return true
}

func (z *ZSet) afterRemove() { z.mem += z.sl.afterRemove() }

// Rank is member's 0-based rank, from the highest score when reverse.
func (z *ZSet) Rank(member []byte, reverse bool) (int, bool) {
	if z.sl == nil {
		i := z.lpFind(member)
		if i < 0 {
			return 0, false
		}
		if reverse {
			return len(z.lp) - 1 - i, true
		}
		return i, true
	}
	n := z.sl.dict[string(member)]
	if n == nil {
		return 0, false
	}
	r := z.sl.rank(n.score, n.member)
	if reverse {
		return z.sl.length - r, true
	}
	return r - 1, true
}

// toSkiplist converts the set to the large encoding.
func (z *ZSet) toSkiplist() {
	if z.sl != nil {
		return
	}
	lp := z.lp
	z.sl = newSkiplist(len(lp))
	a := newAppender(z.sl)
	mem := 0
	for _, e := range lp {
		mem += a.add(e.Score, e.Member) + allocSize(len(e.Member))
	}
	a.finish()
	z.lp, z.lpBytes = nil, 0
	z.mem = z.fixedMem() + mem
}

// FromSorted builds a set from entries sorted by (score, member) with
// distinct members, in the small encoding when listpack is true. The
// set takes the member strings (they must not alias a connection's
// buffers).
func FromSorted(entries []Entry, listpack bool) *ZSet {
	z := &ZSet{}
	mem := 0
	if listpack {
		z.lp = entries
		for i, e := range entries {
			entries[i].Score = lpScore(e.Score)
			mem += allocSize(len(e.Member))
			z.lpBytes += len(e.Member) + lpEntryOverhead
		}
	} else {
		z.sl = newSkiplist(len(entries))
		a := newAppender(z.sl)
		for _, e := range entries {
			mem += a.add(e.Score, e.Member) + allocSize(len(e.Member))
		}
		a.finish()
	}
	z.mem = z.fixedMem() + mem
	return z
}

// SortEntries sorts entries in set order.
func SortEntries(entries []Entry) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].less(entries[j].Score, entries[j].Member) })
}

// Copy returns an independent copy with the same encoding (COPY).
func (z *ZSet) Copy() store.Object {
	entries := make([]Entry, 0, z.Len())
	z.ForEach(func(m string, s float64) bool {
		entries = append(entries, Entry{strings.Clone(m), s})
		return true
	})
	return FromSorted(entries, z.sl == nil)
}

// ForEach calls fn for each member in order until it returns false.
func (z *ZSet) ForEach(fn func(member string, score float64) bool) {
	if z.sl == nil {
		for _, e := range z.lp {
			if !fn(e.Member, e.Score) {
				return
			}
		}
		return
	}
	for x := z.sl.first(); x != nil; x = x.levels[0].forward {
		if !fn(x.member, x.score) {
			return
		}
	}
}

// Random returns a member chosen uniformly at random; the set must not be
// empty.
func (z *ZSet) Random() (string, float64) {
	if z.sl == nil {
		e := &z.lp[rand.IntN(len(z.lp))]
		return e.Member, e.Score
	}
	n := z.sl.nodes[rand.IntN(len(z.sl.nodes))]
	return n.member, n.score
}

// Scan visits up to about count members of a skiplist-encoded set from
// cursor (0 to start) and returns the next cursor (0 when done). A member
// present for the whole scan is visited at least once. A listpack set is
// visited whole, with 0 returned, as Redis does.
func (z *ZSet) Scan(cursor uint64, count int, fn func(member string, score float64)) uint64 {
	if z.sl == nil {
		for _, e := range z.lp {
			fn(e.Member, e.Score)
		}
		return 0
	}
	nodes := z.sl.nodes
	// The cursor is one more than the next index to visit, walking down
	// the dense slice: removals only move a node to a lower index, so
	// nodes not yet visited stay ahead.
	i := len(nodes) - 1
	if cursor != 0 && cursor-1 < uint64(len(nodes)) {
		i = int(cursor - 1)
	}
	for ; i >= 0 && count > 0; i-- {
		fn(nodes[i].member, nodes[i].score)
		count--
	}
	if i < 0 {
		return 0
	}
	return uint64(i) + 1
}

// Pos is a place in a set's order, valid until the set changes. The zero
// Pos is not valid.
type Pos struct {
	z *ZSet
	i int
	n *node
}

// Valid reports whether p is on a member.
func (p Pos) Valid() bool {
	if p.z == nil {
		return false
	}
	if p.z.sl != nil {
		return p.n != nil
	}
	return p.i >= 0 && p.i < len(p.z.lp)
}

// Member is the member at p.
func (p Pos) Member() string {
	if p.n != nil {
		return p.n.member
	}
	return p.z.lp[p.i].Member
}

// Score is the score at p.
func (p Pos) Score() float64 {
	if p.n != nil {
		return p.n.score
	}
	return p.z.lp[p.i].Score
}

// Next moves to the following member.
func (p Pos) Next() Pos {
	if p.z.sl != nil {
		p.n = p.n.levels[0].forward
	} else {
		p.i++
	}
	return p
}

// Prev moves to the preceding member.
func (p Pos) Prev() Pos {
	if p.z.sl != nil {
		p.n = p.n.backward
	} else {
		p.i--
	}
	return p
}

func (z *ZSet) lpPos(i int) Pos { return Pos{z: z, i: i} }

func (z *ZSet) slPos(n *node) Pos { return Pos{z: z, n: n} }

// none is an invalid position of z.
func (z *ZSet) none() Pos { return Pos{z: z, i: -1} }

// ByRank is the position of 0-based rank r (invalid when out of range).
func (z *ZSet) ByRank(r int) Pos {
	if z.sl == nil {
		if r < 0 || r >= len(z.lp) {
			return z.none()
		}
		return z.lpPos(r)
	}
	if r == 0 {
		return z.slPos(z.sl.first())
	}
	if r == z.sl.length-1 {
		return z.slPos(z.sl.tail)
	}
	return z.slPos(z.sl.byRank(r + 1))
}

func (z *ZSet) lpIsInRange(r *ScoreRange) bool {
	if r.empty() || len(z.lp) == 0 {
		return false
	}
	return r.GteMin(z.lp[len(z.lp)-1].Score) && r.LteMax(z.lp[0].Score)
}

// FirstInRange is the first member with a score in r.
func (z *ZSet) FirstInRange(r *ScoreRange) Pos {
	if z.sl != nil {
		return z.slPos(z.sl.firstInRange(r))
	}
	if !z.lpIsInRange(r) {
		return z.none()
	}
	i := sort.Search(len(z.lp), func(i int) bool { return r.GteMin(z.lp[i].Score) })
	if i < len(z.lp) && r.LteMax(z.lp[i].Score) {
		return z.lpPos(i)
	}
	return z.none()
}

// LastInRange is the last member with a score in r.
func (z *ZSet) LastInRange(r *ScoreRange) Pos {
	if z.sl != nil {
		return z.slPos(z.sl.lastInRange(r))
	}
	if !z.lpIsInRange(r) {
		return z.none()
	}
	i := sort.Search(len(z.lp), func(i int) bool { return !r.LteMax(z.lp[i].Score) }) - 1
	if i >= 0 && r.GteMin(z.lp[i].Score) {
		return z.lpPos(i)
	}
	return z.none()
}

func (z *ZSet) lpIsInLexRange(r *LexRange) bool {
	if r.empty() || len(z.lp) == 0 {
		return false
	}
	return r.GteMin(z.lp[len(z.lp)-1].Member) && r.LteMax(z.lp[0].Member)
}

// FirstInLexRange is the first member in r (Redis's walk, which assumes
// equal scores).
func (z *ZSet) FirstInLexRange(r *LexRange) Pos {
	if z.sl != nil {
		return z.slPos(z.sl.firstInLexRange(r))
	}
	if !z.lpIsInLexRange(r) {
		return z.none()
	}
	for i := range z.lp {
		if r.GteMin(z.lp[i].Member) {
			if r.LteMax(z.lp[i].Member) {
				return z.lpPos(i)
			}
			break
		}
	}
	return z.none()
}

// LastInLexRange is the last member in r.
func (z *ZSet) LastInLexRange(r *LexRange) Pos {
	if z.sl != nil {
		return z.slPos(z.sl.lastInLexRange(r))
	}
	if !z.lpIsInLexRange(r) {
		return z.none()
	}
	for i := len(z.lp) - 1; i >= 0; i-- {
		if r.LteMax(z.lp[i].Member) {
			if r.GteMin(z.lp[i].Member) {
				return z.lpPos(i)
			}
			break
		}
	}
	return z.none()
}

// Count is the number of members with a score in r (ZCOUNT).
func (z *ZSet) Count(r *ScoreRange) int {
	if z.sl == nil {
		first := z.FirstInRange(r)
		if !first.Valid() {
			return 0
		}
		last := z.LastInRange(r)
		return last.i - first.i + 1
	}
	first := z.sl.firstInRange(r)
	if first == nil {
		return 0
	}
	n := z.sl.length - (z.sl.rank(first.score, first.member) - 1)
	if last := z.sl.lastInRange(r); last != nil {
		n -= z.sl.length - z.sl.rank(last.score, last.member)
	}
	return n
}

// LexCount is the number of members in r (ZLEXCOUNT).
func (z *ZSet) LexCount(r *LexRange) int {
	if z.sl == nil {
		p := z.FirstInLexRange(r)
		n := 0
		for ; p.Valid() && r.LteMax(p.Member()); p = p.Next() {
			n++
		}
		return n
	}
	first := z.sl.firstInLexRange(r)
	if first == nil {
		return 0
	}
	n := z.sl.length - (z.sl.rank(first.score, first.member) - 1)
	if last := z.sl.lastInLexRange(r); last != nil {
		n -= z.sl.length - z.sl.rank(last.score, last.member)
	}
	return n
}

func (z *ZSet) lpDeleteRange(from, to int) {
	for i := from; i < to; i++ {
		z.lpBytes -= len(z.lp[i].Member) + lpEntryOverhead
		z.mem -= allocSize(len(z.lp[i].Member))
	}
	n := copy(z.lp[from:], z.lp[to:])
	clear(z.lp[from+n:])
	z.lp = z.lp[:from+n]
	z.lpShrink()
}

// DeleteRangeByScore removes the members with a score in r and returns
// how many.
func (z *ZSet) DeleteRangeByScore(r *ScoreRange) int {
	if z.sl == nil {
		first := z.FirstInRange(r)
		if !first.Valid() {
			return 0
		}
		end := first.i
		for end < len(z.lp) && r.LteMax(z.lp[end].Score) {
			end++
		}
		z.lpDeleteRange(first.i, end)
		return end - first.i
	}
	n, freed := z.sl.deleteRangeByScore(r)
	z.mem -= freed
	z.afterRemove()
	return n
}

// DeleteRangeByLex removes the members in r and returns how many.
func (z *ZSet) DeleteRangeByLex(r *LexRange) int {
	if z.sl == nil {
		first := z.FirstInLexRange(r)
		if !first.Valid() {
			return 0
		}
		end := first.i
		for end < len(z.lp) && r.LteMax(z.lp[end].Member) {
			end++
		}
		z.lpDeleteRange(first.i, end)
		return end - first.i
	}
	n, freed := z.sl.deleteRangeByLex(r)
	z.mem -= freed
	z.afterRemove()
	return n
}

// DeleteRangeByRank removes the members of 0-based ranks start..end
// (valid, start <= end) and returns how many.
func (z *ZSet) DeleteRangeByRank(start, end int) int {
	if z.sl == nil {
		z.lpDeleteRange(start, end+1)
		return end - start + 1
	}
	n, freed := z.sl.deleteRangeByRank(start+1, end+1)
	z.mem -= freed
	z.afterRemove()
	return n
}

// Pop removes and returns the first member (the last when max); the set
// must not be empty.
func (z *ZSet) Pop(max bool) (string, float64) {
	if z.sl == nil {
		i := 0
		if max {
			i = len(z.lp) - 1
		}
		e := z.lp[i]
		z.lpDeleteRange(i, i+1)
		return e.Member, e.Score
	}
	n := z.sl.first()
	if max {
		n = z.sl.tail
	}
	m, s := n.member, n.score
	z.mem -= z.sl.delete(s, m)
	z.afterRemove()
	return m, s
}

// allocSize is store.AllocSize.
func allocSize(n int) int { return store.AllocSize(n) }

// Go maps (Swiss tables since Go 1.24): groups of 8 slots of key and
// value with a control word, grown by doubling at 7/8 load, split into
// tables of at most 1024 slots.
const (
	mapSlot      = 16 + 8 // string key + *node
	mapGroup     = 8 + 8*mapSlot
	mapHeader    = 48
	mapTableMax  = 1024
	mapTableHead = 48
)

// mapCapFor is the slot capacity a map grows to for n entries.
func mapCapFor(n int) int {
	if n <= 8 {
		return 8
	}
	c := 16
	for n > c*7/8 {
		c *= 2
	}
	return c
}

// mapMem is what a map of cap slots takes.
func mapMem(cap int) int {
	if cap <= 8 {
		return allocSize(mapHeader) + allocSize(mapGroup)
	}
	if cap <= mapTableMax {
		return allocSize(mapHeader) + allocSize(mapTableHead) + allocSize(cap/8*mapGroup)
	}
	tables := cap / mapTableMax
	return allocSize(mapHeader) + allocSize(tables*ptrSize) +
		tables*(allocSize(mapTableHead)+allocSize(mapTableMax/8*mapGroup))
}
