package collection

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"unsafe"

	"github.com/anvilstack/anvil/cached/store"
)

// Hash is a hash value: field/value pairs.
//
// Encoding "listpack": lp holds the pairs in insertion order, each field
// and value as a uvarint length then its bytes; lookups scan it, as
// Redis's listpack does (it stays small: see Limits). Encoding
// "hashtable": keys[i] and vals[i] are the i-th pair of a dense slice
// indexed by idx. A hash never goes back from hashtable to listpack.
type Hash struct {
	lp []byte
	n  int // pairs in lp

	table  bool
	keys   []string
	vals   []string
	idx    index
	strMem int // allocated bytes of keys and vals strings
}

var hashHeader = allocSize(int(unsafe.Sizeof(Hash{})))

// lpSafeSize is the listpack size beyond which a hash converts whatever
// the limits say (Redis's lpSafeToAdd: 1 GB).
const lpSafeSize = 1 << 30

// NewHash returns an empty hash in the listpack encoding.
func NewHash() *Hash { return &Hash{} }

// Kind implements store.Object.
func (h *Hash) Kind() store.Kind { return store.KindHash }

// Encoding implements store.Object.
func (h *Hash) Encoding() string {
	if h.table {
		return "hashtable"
	}
	return "listpack"
}

// MemUsage implements store.Object.
func (h *Hash) MemUsage() int {
	if h.table {
		return hashHeader + allocSize(cap(h.keys)*16) + allocSize(cap(h.vals)*16) + h.idx.mem() + h.strMem
	}
	return hashHeader + allocSize(cap(h.lp))
}

// Len is the number of fields.
func (h *Hash) Len() int {
	if h.table {
		return len(h.keys)
	}
	return h.n
}

// IsTable reports the hashtable encoding.
func (h *Hash) IsTable() bool { return h.table }

// ---- listpack ----

// lpEntry decodes the entry at off: its bytes and the offset after it.
func lpEntry(lp []byte, off int) ([]byte, int) {
	n := int(lp[off])
	if n < 0x80 {
		off++
	} else {
		v, k := binary.Uvarint(lp[off:])
		n, off = int(v), off+k
	}
	end := off + n
	return lp[off:end:end], end
}

func uvarintLen(n int) int {
	k := 1
	for n >= 0x80 {
		n >>= 7
		k++
	}
	return k
}

func lpEntryLen(n int) int { return uvarintLen(n) + n }

// lpFind returns the offsets of field's pair: the field entry, the value
// entry and the end of the pair; off is -1 when absent.
func (h *Hash) lpFind(field []byte) (off, voff, end int) {
	for off = 0; off < len(h.lp); {
		f, vo := lpEntry(h.lp, off)
		_, e := lpEntry(h.lp, vo)
		if bytes.Equal(f, field) {
			return off, vo, e
		}
		off = e
	}
	return -1, 0, 0
}

// lpSplice replaces lp[from:to] with the entries ins, reallocating to
// the exact size class when the slice must grow or has become mostly
// empty (as a listpack is realloc'ed).
func (h *Hash) lpSplice(from, to int, ins ...[]byte) {
	add := 0
	for _, b := range ins {
		add += lpEntryLen(len(b))
	}
	old := h.lp
	need := len(old) - (to - from) + add
	var dst []byte
	if need <= cap(old) && (cap(old) <= 64 || allocSize(need)*2 > cap(old)) {
		dst = old[:need]
		copy(dst[from+add:], old[to:]) // the tail moves (copy handles overlap)
	} else {
		dst = make([]byte, need, allocSize(need))
		copy(dst, old[:from])
		copy(dst[from+add:], old[to:])
	}
	w := dst[:from]
	for _, b := range ins {
		w = binary.AppendUvarint(w, uint64(len(b)))
		w = append(w, b...)
	}
	h.lp = dst
}

// ---- operations ----

// Get returns field's value.
func (h *Hash) Get(field []byte) ([]byte, bool) {
	if h.table {
		p := h.idx.find(h.keys, stringOf(field))
		if p < 0 {
			return nil, false
		}
		return bytesOf(h.vals[p]), true
	}
	off, vo, _ := h.lpFind(field)
	if off < 0 {
		return nil, false
	}
	v, _ := lpEntry(h.lp, vo)
	return v, true
}

// Exists reports whether field is set.
func (h *Hash) Exists(field []byte) bool {
	_, ok := h.Get(field)
	return ok
}

// PrepareSet converts a listpack hash to a table before fields and
// values of these lengths are set in it, when one is longer than
// hash-max-listpack-value or they would make the listpack too big
// (Redis's hashTypeTryConversion, run before HSET adds anything).
func (h *Hash) PrepareSet(args [][]byte, lim *Limits) {
	if h.table {
		return
	}
	sum := 0
	for _, a := range args {
		if int64(len(a)) > lim.HashMaxListpackValue {
			h.toTable()
			return
		}
		sum += len(a)
	}
	if len(h.lp)+sum > lpSafeSize {
		h.toTable()
	}
}

// Set sets field to value and reports whether the field is new. A
// listpack hash converts to a table when the pair is longer than
// hash-max-listpack-value or the hash grows past
// hash-max-listpack-entries.
func (h *Hash) Set(field, value []byte, lim *Limits) bool {
	if !h.table && (int64(len(field)) > lim.HashMaxListpackValue || int64(len(value)) > lim.HashMaxListpackValue ||
		len(h.lp)+len(field)+len(value) > lpSafeSize) {
		h.toTable()
	}
	if h.table {
		return h.tableSet(field, value)
	}
	created := false
	if off, vo, end := h.lpFind(field); off >= 0 {
		h.lpSplice(vo, end, value)
	} else {
		h.lpSplice(len(h.lp), len(h.lp), field, value)
		h.n++
		created = true
	}
	if int64(h.n) > lim.HashMaxListpackEntries {
		h.toTable()
	}
	return created
}

func (h *Hash) tableSet(field, value []byte) bool {
	if p := h.idx.find(h.keys, stringOf(field)); p >= 0 {
		h.strMem += strMem(len(value)) - strMem(len(h.vals[p]))
		h.vals[p] = string(value)
		return false
	}
	k := string(field)
	h.keys = append(h.keys, k)
	h.vals = append(h.vals, string(value))
	h.idx.insert(k, len(h.keys)-1, len(h.keys))
	h.strMem += strMem(len(field)) + strMem(len(value))
	return true
}

// toTable converts a listpack hash to the hashtable encoding.
func (h *Hash) toTable() {
	n := h.n
	h.keys = make([]string, 0, n+1)
	h.vals = make([]string, 0, n+1)
	h.idx.init(n + 1)
	h.table = true
	for off := 0; off < len(h.lp); {
		f, vo := lpEntry(h.lp, off)
		v, e := lpEntry(h.lp, vo)
		h.tableSet(f, v)
		off = e
	}
	h.lp, h.n = nil, 0
}

// Delete removes field and reports whether it was set.
func (h *Hash) Delete(field []byte) bool {
	if h.table {
		p := h.idx.find(h.keys, stringOf(field))
		if p < 0 {
			return false
		}
		h.removeAt(p)
		return true
	}
	off, _, end := h.lpFind(field)
	if off < 0 {
		return false
	}
	h.lpSplice(off, end)
	h.n--
	return true
}

func (h *Hash) removeAt(p int) {
	h.idx.remove(h.keys, p)
	h.strMem -= strMem(len(h.keys[p])) + strMem(len(h.vals[p]))
	last := len(h.keys) - 1
	h.keys[p], h.vals[p] = h.keys[last], h.vals[last]
	h.keys[last], h.vals[last] = "", ""
	h.keys, h.vals = shrinkStrings(h.keys[:last]), shrinkStrings(h.vals[:last])
}

// Each calls fn with every field and value, in the encoding's order.
func (h *Hash) Each(fn func(field, value []byte)) {
	if h.table {
		for i, k := range h.keys {
			fn(bytesOf(k), bytesOf(h.vals[i]))
		}
		return
	}
	for off := 0; off < len(h.lp); {
		f, vo := lpEntry(h.lp, off)
		v, e := lpEntry(h.lp, vo)
		fn(f, v)
		off = e
	}
}

// HashView gives positional access to a hash's pairs, for random picks.
// It is valid until the hash changes.
type HashView struct {
	h    *Hash
	offs []int // listpack: offset of each pair
}

// View returns a positional view of h, using buf for a listpack's
// offsets.
func (h *Hash) View(buf []int) HashView {
	if h.table {
		return HashView{h: h}
	}
	offs := buf[:0]
	for off := 0; off < len(h.lp); {
		offs = append(offs, off)
		_, vo := lpEntry(h.lp, off)
		_, off = lpEntry(h.lp, vo)
	}
	return HashView{h: h, offs: offs}
}

// Pair returns the i-th field and value (0 <= i < Len).
func (v HashView) Pair(i int) (field, value []byte) {
	if v.h.table {
		return bytesOf(v.h.keys[i]), bytesOf(v.h.vals[i])
	}
	f, vo := lpEntry(v.h.lp, v.offs[i])
	val, _ := lpEntry(v.h.lp, vo)
	return f, val
}

// Scan calls fn for about count pairs from cursor and returns the cursor
// to go on with, 0 at the end. A listpack hash is returned whole in one
// call with cursor 0, as Redis does. A table is walked from its last
// position down: removals only move pairs to lower positions, so a pair
// present for the whole scan is returned at least once.
func (h *Hash) Scan(cursor uint64, count int, fn func(field, value []byte)) uint64 {
	if !h.table {
		h.Each(fn)
		return 0
	}
	pos := len(h.keys)
	if cursor != 0 && cursor < uint64(pos) {
		pos = int(cursor)
	}
	for visited := 0; pos > 0 && visited < count; visited++ {
		pos--
		fn(bytesOf(h.keys[pos]), bytesOf(h.vals[pos]))
	}
	return uint64(pos)
}

// Copy returns a deep copy in the same encoding (COPY).
func (h *Hash) Copy() store.Object {
	c := &Hash{n: h.n, table: h.table, strMem: h.strMem}
	if !h.table {
		c.lp = make([]byte, len(h.lp), allocSize(len(h.lp)))
		copy(c.lp, h.lp)
		return c
	}
	c.keys = make([]string, len(h.keys))
	c.vals = make([]string, len(h.vals))
	for i := range h.keys {
		c.keys[i] = strings.Clone(h.keys[i])
		c.vals[i] = strings.Clone(h.vals[i])
	}
	c.idx = h.idx.clone()
	return c
}

// AppendSnapshot appends the hash for a snapshot: the number of pairs as
// a uvarint, then each field and value as a uvarint length and its bytes
// (a listpack's own bytes).
func (h *Hash) AppendSnapshot(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(h.Len()))
	if !h.table {
		return append(b, h.lp...)
	}
	for i, k := range h.keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(h.vals[i])))
		b = append(b, h.vals[i]...)
	}
	return b
}

// errSnapshot is returned for snapshot bytes that do not decode.
var errSnapshot = errors.New("malformed snapshot value")

// snapshotReader reads what AppendSnapshot wrote.
type snapshotReader struct{ b []byte }

func (r *snapshotReader) uvarint() (int, error) {
	v, k := binary.Uvarint(r.b)
	// A count or a length is never more than the bytes that follow.
	if k <= 0 || v > uint64(len(r.b)-k) {
		return 0, errSnapshot
	}
	r.b = r.b[k:]
	return int(v), nil
}

func (r *snapshotReader) bytes() ([]byte, error) {
	n, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b, nil
}

// DecodeHash rebuilds a hash from AppendSnapshot's bytes. Its encoding
// follows lim, as Redis chooses one when it loads a hash from an RDB
// file: a listpack when the hash is small enough, whatever it was.
func DecodeHash(data []byte, lim *Limits) (*Hash, error) {
	r := &snapshotReader{b: data}
	n, err := r.uvarint()
	if err != nil || n == 0 {
		return nil, errSnapshot
	}
	h := NewHash()
	if int64(n) > lim.HashMaxListpackEntries {
		h.keys = make([]string, 0, n)
		h.vals = make([]string, 0, n)
		h.idx.init(n)
		h.table = true
	}
	for range n {
		f, err := r.bytes()
		if err != nil {
			return nil, err
		}
		v, err := r.bytes()
		if err != nil {
			return nil, err
		}
		h.Set(f, v, lim)
	}
	if len(r.b) != 0 || h.Len() != n {
		return nil, errSnapshot
	}
	return h, nil
}
