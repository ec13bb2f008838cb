package zset

import (
	"encoding/binary"
	"errors"
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

// Fits reports whether a set of n members, the longest maxLen bytes and
// totLen bytes in all, gets the small encoding (Redis's
// zsetConvertToListpackIfNeeded).
func (l Limits) Fits(n, maxLen, totLen int) bool {
	return int64(n) <= l.MaxListpackEntries && int64(maxLen) <= l.MaxListpackValue &&
		totLen+n*lpEntrySize(0, 0) <= listpackSafety
}

// ZSet is a sorted set. The zero value is not usable: use New.
type ZSet struct {
	lp  []byte // the small encoding (see listpack.go); unused once sl is set
	lpN int    // entries in lp
	sl  *skiplist
	mem int
}

var (
	zsetSize     = int(unsafe.Sizeof(ZSet{}))
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
	if !listpack {
		z.sl = newSkiplist(hint)
	}
	z.mem = z.fixedMem()
	return z
}

// fixedMem is what the set takes beyond its members (all of it for the
// small encoding).
func (z *ZSet) fixedMem() int {
	if z.sl == nil {
		return allocSize(zsetSize) + allocSize(cap(z.lp))
	}
	return allocSize(zsetSize) + headerMem + z.sl.index.mem() + allocSize(cap(z.sl.nodes)*ptrSize)
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
		return z.lpN
	}
	return z.sl.length
}

// lpFind is the offset of member's entry and its score, -1 when absent.
func (z *ZSet) lpFind(member []byte) (int, float64) {
	m := str(member)
	for off := 0; off < len(z.lp); {
		em, score, next := lpAt(z.lp, off)
		if str(em) == m {
			return off, score
		}
		off = next
	}
	return -1, 0
}

// lpSearch is the offset where (score, member) belongs.
func (z *ZSet) lpSearch(score float64, member string) int {
	off := 0
	for off < len(z.lp) {
		em, s, next := lpAt(z.lp, off)
		if !(s < score || (s == score && str(em) < member)) {
			break
		}
		off = next
	}
	return off
}

// lpResize makes room for n bytes at off (n < 0 removes -n bytes there),
// sizing the buffer to the allocator's class as a listpack's realloc
// does.
func (z *ZSet) lpResize(off, n int) {
	old := cap(z.lp)
	need := len(z.lp) + n
	switch {
	case need > cap(z.lp):
		lp := make([]byte, need, allocSize(need))
		copy(lp, z.lp[:off])
		copy(lp[off+n:], z.lp[off:])
		z.lp = lp
	case n >= 0:
		z.lp = z.lp[:need]
		copy(z.lp[off+n:], z.lp[off:need-n])
	default:
		copy(z.lp[off:], z.lp[off-n:])
		z.lp = z.lp[:need]
		if c := allocSize(need); c < old && old-need > 256 {
			lp := make([]byte, need, c)
			copy(lp, z.lp)
			z.lp = lp
		}
	}
	if cap(z.lp) != old {
		z.mem += allocSize(cap(z.lp)) - allocSize(old)
	}
}

// lpInsert adds an entry at its place.
func (z *ZSet) lpInsert(member string, score float64) {
	score = lpScore(score)
	off := z.lpSearch(score, member)
	sz := lpEntrySize(len(member), score)
	z.lpResize(off, sz)
	lpPut(z.lp[off:], member, score)
	z.lpN++
}

// lpRemove removes the entry at off.
func (z *ZSet) lpRemove(off int) {
	_, _, next := lpAt(z.lp, off)
	z.lpResize(off, off-next)
	z.lpN--
}

// Score is member's score.
func (z *ZSet) Score(member []byte) (float64, bool) {
	if z.sl == nil {
		off, score := z.lpFind(member)
		return score, off >= 0
	}
	if n := z.sl.find(str(member)); n != nil {
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
		if off, cur := z.lpFind(member); off >= 0 {
			if nx {
				return ResultNop, 0
			}
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
				// The member's bytes live in lp: copy them out first.
				m := string(member)
				z.lpRemove(off)
				z.lpInsert(m, score)
				return ResultUpdated, score
			}
			return 0, score
		}
		if xx {
			return ResultNop, 0
		}
		if int64(z.lpN+1) > lim.MaxListpackEntries || int64(len(member)) > lim.MaxListpackValue ||
			len(z.lp)+lpEntrySize(len(member), score) > listpackSafety {
			z.toSkiplist()
		} else {
			z.lpInsert(str(member), score)
			return ResultAdded, score
		}
	}
	if n := z.sl.find(str(member)); n != nil {
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
		off, _ := z.lpFind(member)
		if off < 0 {
			return false
		}
		z.lpRemove(off)
		return true
	}
	n := z.sl.find(str(member))
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
		m := str(member)
		r := 0
		for off := 0; off < len(z.lp); r++ {
			em, _, next := lpAt(z.lp, off)
			if str(em) == m {
				if reverse {
					return z.lpN - 1 - r, true
				}
				return r, true
			}
			off = next
		}
		return 0, false
	}
	n := z.sl.find(str(member))
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
	z.sl = newSkiplist(z.lpN)
	a := newAppender(z.sl)
	mem := 0
	for off := 0; off < len(lp); {
		em, score, next := lpAt(lp, off)
		mem += a.add(score, string(em)) + allocSize(len(em))
		off = next
	}
	a.finish()
	z.lp, z.lpN = nil, 0
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
		size := 0
		for _, e := range entries {
			size += lpEntrySize(len(e.Member), lpScore(e.Score))
		}
		z.lp = make([]byte, size, allocSize(size))
		off := 0
		for _, e := range entries {
			lpPut(z.lp[off:], e.Member, lpScore(e.Score))
			off += lpEntrySize(len(e.Member), lpScore(e.Score))
		}
		z.lpN = len(entries)
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
	if z.sl == nil {
		cp := &ZSet{lp: make([]byte, len(z.lp), cap(z.lp)), lpN: z.lpN, mem: z.mem}
		copy(cp.lp, z.lp)
		return cp
	}
	entries := make([]Entry, 0, z.Len())
	z.ForEach(func(m string, s float64) bool {
		entries = append(entries, Entry{strings.Clone(m), s})
		return true
	})
	return FromSorted(entries, false)
}

// ForEach calls fn for each member in order until it returns false. In
// the small encoding the member string is a view valid only during fn.
func (z *ZSet) ForEach(fn func(member string, score float64) bool) {
	if z.sl == nil {
		for off := 0; off < len(z.lp); {
			em, score, next := lpAt(z.lp, off)
			if !fn(str(em), score) {
				return
			}
			off = next
		}
		return
	}
	for x := z.sl.first(); x != nil; x = x.lvl(0).forward {
		if !fn(x.member, x.score) {
			return
		}
	}
}

// Random returns a member chosen uniformly at random; the set must not be
// empty. In the small encoding the member is a view valid until the set
// changes.
func (z *ZSet) Random() (string, float64) {
	if z.sl == nil {
		p := z.ByRank(rand.IntN(z.lpN))
		return p.Member(), p.Score()
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
		z.ForEach(func(m string, s float64) bool { fn(m, s); return true })
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
	z   *ZSet
	off int // byte offset in the small encoding
	n   *node
}

// Valid reports whether p is on a member.
func (p Pos) Valid() bool {
	if p.z == nil {
		return false
	}
	if p.z.sl != nil {
		return p.n != nil
	}
	return p.off >= 0 && p.off < len(p.z.lp)
}

// Member is the member at p (in the small encoding, a view valid until
// the set changes).
func (p Pos) Member() string {
	if p.n != nil {
		return p.n.member
	}
	em, _, _ := lpAt(p.z.lp, p.off)
	return str(em)
}

// Score is the score at p.
func (p Pos) Score() float64 {
	if p.n != nil {
		return p.n.score
	}
	return lpScoreAt(p.z.lp, p.off)
}

// Next moves to the following member.
func (p Pos) Next() Pos {
	if p.z.sl != nil {
		p.n = p.n.lvl(0).forward
	} else {
		_, _, p.off = lpAt(p.z.lp, p.off)
	}
	return p
}

// Prev moves to the preceding member.
func (p Pos) Prev() Pos {
	if p.z.sl != nil {
		p.n = p.n.backward
	} else if p.off == 0 {
		p.off = -1
	} else {
		p.off = lpPrev(p.z.lp, p.off)
	}
	return p
}

func (z *ZSet) lpPos(off int) Pos { return Pos{z: z, off: off} }

func (z *ZSet) slPos(n *node) Pos { return Pos{z: z, n: n} }

// none is an invalid position of z.
func (z *ZSet) none() Pos { return Pos{z: z, off: -1} }

func (z *ZSet) lpFirst() Pos {
	if z.lpN == 0 {
		return z.none()
	}
	return z.lpPos(0)
}

func (z *ZSet) lpLast() Pos {
	if z.lpN == 0 {
		return z.none()
	}
	return z.lpPos(lpPrev(z.lp, len(z.lp)))
}

// ByRank is the position of 0-based rank r (invalid when out of range).
func (z *ZSet) ByRank(r int) Pos {
	if z.sl == nil {
		if r < 0 || r >= z.lpN {
			return z.none()
		}
		// Walk from the nearer end.
		if r <= z.lpN/2 {
			p := z.lpFirst()
			for ; r > 0; r-- {
				p = p.Next()
			}
			return p
		}
		p := z.lpLast()
		for r = z.lpN - 1 - r; r > 0; r-- {
			p = p.Prev()
		}
		return p
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
	if r.empty() || z.lpN == 0 {
		return false
	}
	return r.GteMin(z.lpLast().Score()) && r.LteMax(lpScoreAt(z.lp, 0))
}

// FirstInRange is the first member with a score in r.
func (z *ZSet) FirstInRange(r *ScoreRange) Pos {
	if z.sl != nil {
		return z.slPos(z.sl.firstInRange(r))
	}
	if !z.lpIsInRange(r) {
		return z.none()
	}
	for p := z.lpFirst(); p.Valid(); p = p.Next() {
		if s := p.Score(); r.GteMin(s) {
			if r.LteMax(s) {
				return p
			}
			break
		}
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
	for p := z.lpLast(); p.Valid(); p = p.Prev() {
		if s := p.Score(); r.LteMax(s) {
			if r.GteMin(s) {
				return p
			}
			break
		}
	}
	return z.none()
}

func (z *ZSet) lpIsInLexRange(r *LexRange) bool {
	if r.empty() || z.lpN == 0 {
		return false
	}
	return r.GteMin(z.lpLast().Member()) && r.LteMax(z.lpFirst().Member())
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
	for p := z.lpFirst(); p.Valid(); p = p.Next() {
		if m := p.Member(); r.GteMin(m) {
			if r.LteMax(m) {
				return p
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
	for p := z.lpLast(); p.Valid(); p = p.Prev() {
		if m := p.Member(); r.LteMax(m) {
			if r.GteMin(m) {
				return p
			}
			break
		}
	}
	return z.none()
}

// Count is the number of members with a score in r (ZCOUNT).
func (z *ZSet) Count(r *ScoreRange) int {
	if z.sl == nil {
		n := 0
		for p := z.FirstInRange(r); p.Valid() && r.LteMax(p.Score()); p = p.Next() {
			n++
		}
		return n
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
		n := 0
		for p := z.FirstInLexRange(r); p.Valid() && r.LteMax(p.Member()); p = p.Next() {
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

// lpDeleteFrom removes the entries from the one at off while keep says
// so, and returns how many.
func (z *ZSet) lpDeleteFrom(off int, del func(m []byte, score float64) bool) int {
	end, n := off, 0
	for end < len(z.lp) {
		em, score, next := lpAt(z.lp, end)
		if !del(em, score) {
			break
		}
		end = next
		n++
	}
	if n > 0 {
		z.lpResize(off, off-end)
		z.lpN -= n
	}
	return n
}

// DeleteRangeByScore removes the members with a score in r and returns
// how many.
func (z *ZSet) DeleteRangeByScore(r *ScoreRange) int {
	if z.sl == nil {
		first := z.FirstInRange(r)
		if !first.Valid() {
			return 0
		}
		return z.lpDeleteFrom(first.off, func(_ []byte, s float64) bool { return r.LteMax(s) })
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
		return z.lpDeleteFrom(first.off, func(m []byte, _ float64) bool { return r.LteMax(str(m)) })
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
		left := end - start + 1
		return z.lpDeleteFrom(z.ByRank(start).off, func([]byte, float64) bool { left--; return left >= 0 })
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
		p := z.lpFirst()
		if max {
			p = z.lpLast()
		}
		m, s := strings.Clone(p.Member()), p.Score()
		z.lpRemove(p.off)
		return m, s
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

// AppendSnapshot appends the set's serialized form (for cached's
// snapshots): uvarint(count), then per member in order uvarint(length),
// the member, and the score's 8 bytes (little endian).
func (z *ZSet) AppendSnapshot(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(z.Len()))
	z.ForEach(func(m string, s float64) bool {
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s))
		return true
	})
	return b
}

// DecodeSnapshot rebuilds a set from AppendSnapshot's bytes, in the
// encoding lim gives a set of its size (as Redis converts on load).
func DecodeSnapshot(data []byte, lim Limits) (*ZSet, error) {
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data)) {
		return nil, errors.New("zset snapshot: bad count")
	}
	data = data[k:]
	entries := make([]Entry, 0, n)
	seen := make(map[string]struct{}, n)
	maxLen, totLen := 0, 0
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(data)
		if k <= 0 || l > uint64(len(data)-k) || len(data)-k-int(l) < 8 {
			return nil, errors.New("zset snapshot: truncated member")
		}
		m := string(data[k : k+int(l)])
		data = data[k+int(l):]
		s := math.Float64frombits(binary.LittleEndian.Uint64(data))
		data = data[8:]
		if math.IsNaN(s) {
			return nil, errors.New("zset snapshot: NaN score")
		}
		if len(entries) > 0 && !entries[len(entries)-1].less(s, m) {
			return nil, errors.New("zset snapshot: members out of order")
		}
		if _, dup := seen[m]; dup {
			return nil, errors.New("zset snapshot: repeated member")
		}
		seen[m] = struct{}{}
		entries = append(entries, Entry{m, s})
		maxLen = max(maxLen, len(m))
		totLen += len(m)
	}
	if len(data) != 0 {
		return nil, errors.New("zset snapshot: trailing bytes")
	}
	return FromSorted(entries, lim.Fits(len(entries), maxLen, totLen)), nil
}
