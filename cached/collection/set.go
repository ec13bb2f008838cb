package collection

import (
	"encoding/binary"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/pkg/resp"
)

// Set is a set value.
//
// Encoding "intset": ints holds the members, all canonical decimal
// integers, sorted. Encoding "hashtable": keys is a dense slice of the
// members indexed by idx. A set goes from intset to hashtable (when a
// member is not an integer or it outgrows set-max-intset-entries) and
// never back. Redis 7.0 has no listpack sets.
type Set struct {
	ints []int64

	table  bool
	keys   []string
	idx    index
	strMem int
}

var setHeader = allocSize(int(unsafe.Sizeof(Set{})))

// ParseInt reports whether m is an integer an intset can hold (Redis's
// string2ll: canonical decimal only).
func ParseInt(m []byte) (int64, bool) { return resp.ParseInt(m) }

// NewSetFor returns an empty set in the encoding that can hold first
// (Redis's setTypeCreate): an intset for an integer, a table otherwise.
func NewSetFor(first []byte) *Set {
	if _, ok := ParseInt(first); ok {
		return &Set{}
	}
	return NewTableSet(1)
}

// NewIntSet returns an empty intset (the start of a computed set, as
// SINTERSTORE and SUNION build theirs).
func NewIntSet() *Set { return &Set{} }

// NewTableSet returns an empty set in the hashtable encoding sized for n
// members.
func NewTableSet(n int) *Set {
	s := &Set{table: true, keys: make([]string, 0, max(n, 1))}
	s.idx.init(n)
	return s
}

// Kind implements store.Object.
func (s *Set) Kind() store.Kind { return store.KindSet }

// Encoding implements store.Object.
func (s *Set) Encoding() string {
	if s.table {
		return "hashtable"
	}
	return "intset"
}

// MemUsage implements store.Object.
func (s *Set) MemUsage() int {
	if s.table {
		return setHeader + allocSize(cap(s.keys)*16) + s.idx.mem() + s.strMem
	}
	return setHeader + allocSize(cap(s.ints)*8)
}

// Len is the number of members.
func (s *Set) Len() int {
	if s.table {
		return len(s.keys)
	}
	return len(s.ints)
}

// IsIntset reports the intset encoding.
func (s *Set) IsIntset() bool { return !s.table }

func intsetMax(lim *Limits) int {
	return int(min(max(lim.SetMaxIntsetEntries, 0), maxIntset))
}

// Add adds m and reports whether it was new.
func (s *Set) Add(m []byte, lim *Limits) bool {
	if !s.table {
		if v, ok := ParseInt(m); ok {
			return s.AddInt(v, lim)
		}
		s.toTable(len(s.ints) + 1)
	}
	return s.tableAdd(m)
}

// AddInt adds the integer v and reports whether it was new.
func (s *Set) AddInt(v int64, lim *Limits) bool {
	if s.table {
		var buf [20]byte
		return s.tableAdd(strconv.AppendInt(buf[:0], v, 10))
	}
	i, found := slices.BinarySearch(s.ints, v)
	if found {
		return false
	}
	if len(s.ints) == cap(s.ints) {
		// Grow by a size class at a time, as an intset is realloc'ed.
		n := allocSize((len(s.ints)+1)*8) / 8
		if len(s.ints) >= 64 {
			n = max(n, len(s.ints)+len(s.ints)/8)
		}
		ns := make([]int64, len(s.ints), n)
		copy(ns, s.ints)
		s.ints = ns
	}
	s.ints = slices.Insert(s.ints, i, v)
	if len(s.ints) > intsetMax(lim) {
		s.toTable(len(s.ints))
	}
	return true
}

func (s *Set) tableAdd(m []byte) bool {
	if s.idx.find(s.keys, stringOf(m)) >= 0 {
		return false
	}
	k := string(m)
	s.keys = append(s.keys, k)
	s.idx.insert(k, len(s.keys)-1, len(s.keys))
	s.strMem += strMem(len(k))
	return true
}

// toTable converts an intset to the hashtable encoding, sized for n.
func (s *Set) toTable(n int) {
	ints := s.ints
	s.ints = nil
	s.table = true
	s.keys = make([]string, 0, max(n, len(ints)))
	s.idx.init(max(n, len(ints)))
	var buf [20]byte
	for _, v := range ints {
		s.tableAdd(strconv.AppendInt(buf[:0], v, 10))
	}
}

// Has reports whether m is a member.
func (s *Set) Has(m []byte) bool {
	if s.table {
		return s.idx.find(s.keys, stringOf(m)) >= 0
	}
	v, ok := ParseInt(m)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(s.ints, v)
	return found
}

// HasInt reports whether the integer v is a member.
func (s *Set) HasInt(v int64) bool {
	if s.table {
		var buf [20]byte
		return s.idx.find(s.keys, stringOf(strconv.AppendInt(buf[:0], v, 10))) >= 0
	}
	_, found := slices.BinarySearch(s.ints, v)
	return found
}

// Remove removes m and reports whether it was a member.
func (s *Set) Remove(m []byte) bool {
	if s.table {
		p := s.idx.find(s.keys, stringOf(m))
		if p < 0 {
			return false
		}
		s.removeAt(p)
		return true
	}
	v, ok := ParseInt(m)
	if !ok {
		return false
	}
	i, found := slices.BinarySearch(s.ints, v)
	if !found {
		return false
	}
	s.ints = slices.Delete(s.ints, i, i+1)
	s.shrinkInts()
	return true
}

func (s *Set) shrinkInts() {
	if c := cap(s.ints); c > 16 && allocSize(len(s.ints)*8)*2 < c*8 {
		s.ints = slices.Clip(slices.Clone(s.ints))
	}
}

func (s *Set) removeAt(p int) {
	s.idx.remove(s.keys, p)
	s.strMem -= strMem(len(s.keys[p]))
	last := len(s.keys) - 1
	s.keys[p] = s.keys[last]
	s.keys[last] = ""
	s.keys = shrinkStrings(s.keys[:last])
}

// Int is the i-th member of an intset.
func (s *Set) Int(i int) int64 { return s.ints[i] }

// Member is the i-th member of a table set.
func (s *Set) Member(i int) string { return s.keys[i] }

// MemberBytes is the i-th member of a table set, as read-only bytes.
func (s *Set) MemberBytes(i int) []byte { return bytesOf(s.keys[i]) }

// RemoveAt removes the i-th member.
func (s *Set) RemoveAt(i int) {
	if s.table {
		s.removeAt(i)
		return
	}
	s.ints = slices.Delete(s.ints, i, i+1)
	s.shrinkInts()
}

// AppendMember appends the i-th member (0 <= i < Len), in either
// encoding, to dst.
func (s *Set) AppendMember(dst []byte, i int) []byte {
	if s.table {
		return append(dst, s.keys[i]...)
	}
	return strconv.AppendInt(dst, s.ints[i], 10)
}

// RemovePositions removes the members at the given distinct positions
// (which it sorts).
func (s *Set) RemovePositions(pos []int) {
	sort.Ints(pos)
	if s.table {
		// From the highest down: each removal moves the last member,
		// which is never one still to remove, into the hole.
		for i := len(pos) - 1; i >= 0; i-- {
			s.removeAt(pos[i])
		}
		return
	}
	w, j := 0, 0
	for i, v := range s.ints {
		if j < len(pos) && pos[j] == i {
			j++
			continue
		}
		s.ints[w] = v
		w++
	}
	s.ints = s.ints[:w]
	s.shrinkInts()
}

// Scan calls fn for about count members from cursor and returns the
// cursor to go on with, 0 at the end; an intset is returned whole with
// cursor 0 (see Hash.Scan). buf is scratch for formatting integers.
func (s *Set) Scan(cursor uint64, count int, fn func(m []byte)) uint64 {
	if !s.table {
		var buf [20]byte
		for _, v := range s.ints {
			fn(strconv.AppendInt(buf[:0], v, 10))
		}
		return 0
	}
	pos := len(s.keys)
	if cursor != 0 && cursor < uint64(pos) {
		pos = int(cursor)
	}
	for visited := 0; pos > 0 && visited < count; visited++ {
		pos--
		fn(bytesOf(s.keys[pos]))
	}
	return uint64(pos)
}

// Copy returns a deep copy in the same encoding (COPY).
func (s *Set) Copy() store.Object {
	c := &Set{table: s.table, strMem: s.strMem}
	if !s.table {
		c.ints = slices.Clip(slices.Clone(s.ints))
		return c
	}
	c.keys = make([]string, len(s.keys))
	for i, k := range s.keys {
		c.keys[i] = strings.Clone(k)
	}
	c.idx = s.idx.clone()
	return c
}

// AppendSnapshot appends the set for a snapshot: the number of members as
// a uvarint, then each member as a uvarint length and its bytes.
func (s *Set) AppendSnapshot(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(s.Len()))
	var num [20]byte
	for i := range s.Len() {
		if s.table {
			b = binary.AppendUvarint(b, uint64(len(s.keys[i])))
			b = append(b, s.keys[i]...)
			continue
		}
		m := strconv.AppendInt(num[:0], s.ints[i], 10)
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
	}
	return b
}

// DecodeSet rebuilds a set from AppendSnapshot's bytes, in the encoding
// lim gives it (as Redis loads a set from an RDB file: an intset when
// every member is an integer and they are few enough).
func DecodeSet(data []byte, lim *Limits) (*Set, error) {
	r := &snapshotReader{b: data}
	n, err := r.uvarint()
	if err != nil || n == 0 {
		return nil, errSnapshot
	}
	s := NewIntSet()
	if n > intsetMax(lim) {
		s = NewTableSet(n)
	}
	for range n {
		m, err := r.bytes()
		if err != nil {
			return nil, err
		}
		s.Add(m, lim)
	}
	if len(r.b) != 0 || s.Len() != n {
		return nil, errSnapshot
	}
	return s, nil
}
