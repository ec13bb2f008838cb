// Package rdb reads and writes values in Redis's serialization format,
// as DUMP produces and RESTORE consumes it: an RDB type byte, the value
// in the RDB object encoding, then a footer of the RDB version (2 bytes,
// little endian) and a CRC-64 (Jones polynomial, 8 bytes, little endian)
// of everything before it.
//
// # Writing
//
// [Encoder] writes what Redis 7.0 writes for each encoding (strings with
// the integer and LZF encodings, listpacks for small hashes and sorted
// sets and for list nodes, intsets, plain sequences for hash tables and
// skiplists), so a payload from cached RESTOREs into Redis 7.0 and, for
// the same value in the same encoding, is usually the same bytes.
//
// # Reading
//
// [Decode] reads every type Redis 7.0 can RESTORE except streams and
// modules, including the encodings of earlier versions (ziplists,
// zipmaps, quicklists of ziplists, string-encoded scores), and hands the
// value to a [Sink] element by element. The input is untrusted: every
// length is checked against what is left of the payload before anything
// is allocated, compressed data may expand to at most Limits.MaxBytes in
// total, and every listpack, ziplist, intset and zipmap is validated
// completely (Redis's "deep" sanitization) before its elements are used.
package rdb

import (
	"encoding/binary"
	"errors"
	"hash/crc64"
	"math"
	"strconv"
	"sync"

	"github.com/anvilstack/anvil/pkg/resp"
)

// Version is the RDB version Redis 7.0 writes (and the newest it reads).
const Version = 10

// RDB object types.
const (
	TypeString           = 0
	TypeList             = 1
	TypeSet              = 2
	TypeZSet             = 3
	TypeHash             = 4
	TypeZSet2            = 5
	TypeModule           = 6
	TypeModule2          = 7
	TypeHashZipmap       = 9
	TypeListZiplist      = 10
	TypeSetIntset        = 11
	TypeZSetZiplist      = 12
	TypeHashZiplist      = 13
	TypeListQuicklist    = 14
	TypeStreamListpacks  = 15
	TypeHashListpack     = 16
	TypeZSetListpack     = 17
	TypeListQuicklist2   = 18
	TypeStreamListpacks2 = 19
)

// Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2).
const (
	ContainerPlain  = 1
	ContainerPacked = 2
)

// Errors of Decode. RESTORE reports all of them as "Bad data format".
var (
	ErrFormat      = errors.New("bad data format")
	ErrEmpty       = errors.New("empty collection")
	ErrUnsupported = errors.New("unsupported value type")
	ErrTooBig      = errors.New("value expands beyond the limit")
)

var crcTable = crc64.MakeTable(0x95AC9329AC4BC9B5) // Jones, reflected

// CRC64 is Redis's crc64(crc, p): the Jones polynomial, reflected, with
// no initial or final inversion.
func CRC64(crc uint64, p []byte) uint64 { return ^crc64.Update(^crc, crcTable, p) }

// Verify checks a payload's footer as Redis's verifyDumpPayload does:
// an RDB version Redis 7.0 reads and a matching CRC-64.
func Verify(payload []byte) bool {
	if len(payload) < 10 {
		return false
	}
	footer := payload[len(payload)-10:]
	if binary.LittleEndian.Uint16(footer) > Version {
		return false
	}
	return CRC64(0, payload[:len(payload)-8]) == binary.LittleEndian.Uint64(footer[2:])
}

// ---- writing ----

var htabPool = sync.Pool{New: func() any { return new(lzfTable) }}

// Encoder writes one DUMP payload.
type Encoder struct {
	b    []byte
	htab *lzfTable
}

// NewEncoder starts a payload at the end of dst.
func NewEncoder(dst []byte) *Encoder { return &Encoder{b: dst} }

// Byte writes a type byte (or a container).
func (e *Encoder) Byte(t byte) { e.b = append(e.b, t) }

// Len writes a length in the RDB length encoding.
func (e *Encoder) Len(n uint64) { e.b = AppendLen(e.b, n) }

// AppendLen appends n in the RDB length encoding.
func AppendLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case n <= math.MaxUint32:
		b = append(b, 0x80)
		return binary.BigEndian.AppendUint32(b, uint32(n))
	}
	b = append(b, 0x81)
	return binary.BigEndian.AppendUint64(b, n)
}

// String writes s as Redis's rdbSaveRawString: an integer encoding for a
// short decimal integer that fits 32 bits, LZF when s is longer than 20
// bytes and compresses by at least 4, else the bytes.
func (e *Encoder) String(s []byte) {
	if len(s) <= 11 {
		if v, ok := resp.ParseInt(s); ok {
			switch {
			case v >= -(1<<7) && v <= 1<<7-1:
				e.b = append(e.b, 0xC0, byte(v))
				return
			case v >= -(1<<15) && v <= 1<<15-1:
				e.b = append(e.b, 0xC1, byte(v), byte(v>>8))
				return
			case v >= -(1<<31) && v <= 1<<31-1:
				e.b = append(e.b, 0xC2, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
				return
			}
		}
	}
	if len(s) > 20 {
		if e.htab == nil {
			e.htab = htabPool.Get().(*lzfTable)
		}
		if c := lzfCompress(s, len(s)-4, e.htab); c != nil {
			e.b = append(e.b, 0xC3)
			e.Len(uint64(len(c)))
			e.Len(uint64(len(s)))
			e.b = append(e.b, c...)
			return
		}
	}
	e.Len(uint64(len(s)))
	e.b = append(e.b, s...)
}

// BinaryDouble writes a score of RDB_TYPE_ZSET_2.
func (e *Encoder) BinaryDouble(f float64) {
	e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f))
}

// Finish appends the footer and returns the payload; the Encoder must
// not be used after.
func (e *Encoder) Finish() []byte {
	if e.htab != nil {
		htabPool.Put(e.htab)
		e.htab = nil
	}
	e.b = binary.LittleEndian.AppendUint16(e.b, Version)
	e.b = binary.LittleEndian.AppendUint64(e.b, CRC64(0, e.b))
	return e.b
}

// ---- reading ----

// Kind is the type of a decoded value.
type Kind uint8

// The kinds of values.
const (
	KindString Kind = iota
	KindList
	KindSet
	KindZSet
	KindHash
)

// Sink receives a decoded value: Begin once, then the calls of its kind.
// The byte slices are valid only during the call.
type Sink interface {
	// Begin starts a value of kind read as RDB type typ; hint is its
	// element count when the encoding says it (bounded by the payload's
	// size), else 0.
	Begin(kind Kind, typ byte, hint int) error
	String(s []byte) error                     // KindString
	Elem(s []byte) error                       // KindList elements, KindSet members
	Int(v int64) error                         // KindSet members of an intset
	Pair(field, value []byte) error            // KindHash
	Scored(member []byte, score float64) error // KindZSet
}

// Limits bound what decoding may allocate.
type Limits struct {
	// MaxBytes bounds the bytes that compressed strings expand to, in
	// total (uncompressed data is read in place).
	MaxBytes int64
}

type reader struct {
	b      []byte
	off    int
	budget int64
	num    [24]byte // an integer-encoded string's digits
	num2   [24]byte
}

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, ErrFormat
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) take(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)-r.off) {
		return nil, ErrFormat
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s, nil
}

// length reads an RDB length; enc reports a special string encoding
// (its type in the low bits).
func (r *reader) length() (n uint64, enc bool, err error) {
	c, err := r.byte()
	if err != nil {
		return 0, false, err
	}
	switch c >> 6 {
	case 3:
		return uint64(c & 0x3F), true, nil
	case 0:
		return uint64(c & 0x3F), false, nil
	case 1:
		d, err := r.byte()
		return uint64(c&0x3F)<<8 | uint64(d), false, err
	}
	switch c {
	case 0x80:
		b, err := r.take(4)
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(b)), false, nil
	case 0x81:
		b, err := r.take(8)
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(b), false, nil
	}
	return 0, false, ErrFormat
}

// count reads a collection length: it must be possible for the rest of
// the payload to hold that many elements of at least min bytes each.
func (r *reader) count(min int) (int, error) {
	n, enc, err := r.length()
	if err != nil || enc {
		return 0, ErrFormat
	}
	if n > uint64(len(r.b)-r.off)/uint64(min) {
		return 0, ErrFormat
	}
	return int(n), nil
}

// str reads a string in any of its encodings; an integer's digits go to
// buf.
func (r *reader) str(buf []byte) ([]byte, error) {
	n, enc, err := r.length()
	if err != nil {
		return nil, err
	}
	if !enc {
		return r.take(n)
	}
	switch n {
	case 0, 1, 2:
		w := 1 << n
		b, err := r.take(uint64(w))
		if err != nil {
			return nil, err
		}
		var u uint64
		for i := w - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		v := int64(u<<(64-8*w)) >> (64 - 8*w)
		return strconv.AppendInt(buf[:0], v, 10), nil
	case 3:
		clen, cenc, err := r.length()
		if err != nil || cenc {
			return nil, ErrFormat
		}
		ulen, uenc, err := r.length()
		if err != nil || uenc {
			return nil, ErrFormat
		}
		if int64(ulen) < 0 || int64(ulen) > r.budget || ulen > clen*300+64 {
			return nil, ErrTooBig
		}
		c, err := r.take(clen)
		if err != nil {
			return nil, err
		}
		r.budget -= int64(ulen)
		out, err := lzfDecompress(c, int(ulen))
		if err != nil {
			return nil, ErrFormat
		}
		return out, nil
	}
	return nil, ErrFormat
}

// Decode reads the value of a payload (whose footer the caller checked
// with Verify) into s. Bytes after the value are ignored, as Redis
// ignores them.
func Decode(payload []byte, lim Limits, s Sink) error {
	if len(payload) < 10 {
		return ErrFormat
	}
	// Like Redis, read from the whole payload: a value cut short goes on
	// into the footer's bytes.
	r := &reader{b: payload, budget: lim.MaxBytes}
	typ, err := r.byte()
	if err != nil {
		return err
	}
	return r.object(typ, s)
}

func (r *reader) object(typ byte, s Sink) error {
	switch typ {
	case TypeString:
		v, err := r.str(r.num[:])
		if err != nil {
			return err
		}
		if err := s.Begin(KindString, typ, 0); err != nil {
			return err
		}
		return s.String(v)

	case TypeList, TypeSet:
		n, err := r.count(1)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrEmpty
		}
		kind := KindList
		if typ == TypeSet {
			kind = KindSet
		}
		if err := s.Begin(kind, typ, n); err != nil {
			return err
		}
		for ; n > 0; n-- {
			v, err := r.str(r.num[:])
			if err != nil {
				return err
			}
			if err := s.Elem(v); err != nil {
				return err
			}
		}
		return nil

	case TypeZSet, TypeZSet2:
		n, err := r.count(2)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrEmpty
		}
		if err := s.Begin(KindZSet, typ, n); err != nil {
			return err
		}
		for ; n > 0; n-- {
			m, err := r.str(r.num[:])
			if err != nil {
				return err
			}
			var score float64
			if typ == TypeZSet2 {
				b, err := r.take(8)
				if err != nil {
					return err
				}
				score = math.Float64frombits(binary.LittleEndian.Uint64(b))
			} else if score, err = r.textDouble(); err != nil {
				return err
			}
			if math.IsNaN(score) {
				return ErrFormat
			}
			if err := s.Scored(m, score); err != nil {
				return err
			}
		}
		return nil

	case TypeHash:
		n, err := r.count(2)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrEmpty
		}
		if err := s.Begin(KindHash, typ, n); err != nil {
			return err
		}
		for ; n > 0; n-- {
			f, err := r.str(r.num[:])
			if err != nil {
				return err
			}
			v, err := r.str(r.num2[:])
			if err != nil {
				return err
			}
			if err := s.Pair(f, v); err != nil {
				return err
			}
		}
		return nil

	case TypeListQuicklist, TypeListQuicklist2:
		n, err := r.count(2)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrEmpty
		}
		if err := s.Begin(KindList, typ, 0); err != nil {
			return err
		}
		elems := 0
		var buf [24]byte
		each := func(e *lpEntry) error {
			elems++
			return s.Elem(e.bytes(buf[:]))
		}
		for ; n > 0; n-- {
			container := uint64(ContainerPacked)
			if typ == TypeListQuicklist2 {
				var enc bool
				if container, enc, err = r.length(); err != nil || enc || (container != ContainerPlain && container != ContainerPacked) {
					return ErrFormat
				}
			}
			blob, err := r.str(r.num[:])
			if err != nil {
				return err
			}
			if len(blob) == 0 {
				return ErrFormat
			}
			switch {
			case container == ContainerPlain:
				elems++
				err = s.Elem(blob)
			case typ == TypeListQuicklist2:
				err = lpEach(blob, each)
			default:
				err = ziplistEach(blob, each)
			}
			if err != nil {
				return err
			}
		}
		if elems == 0 {
			return ErrEmpty
		}
		return nil

	case TypeListZiplist:
		blob, err := r.str(r.num[:])
		if err != nil {
			return err
		}
		if err := s.Begin(KindList, typ, 0); err != nil {
			return err
		}
		n := 0
		var buf [24]byte
		if err := ziplistEach(blob, func(e *lpEntry) error { n++; return s.Elem(e.bytes(buf[:])) }); err != nil {
			return err
		}
		if n == 0 {
			return ErrEmpty
		}
		return nil

	case TypeSetIntset:
		blob, err := r.str(r.num[:])
		if err != nil {
			return err
		}
		if len(blob) < 8 || binary.LittleEndian.Uint32(blob[4:]) == 0 {
			return ErrFormat
		}
		if err := s.Begin(KindSet, typ, int(min(binary.LittleEndian.Uint32(blob[4:]), uint32(len(blob))))); err != nil {
			return err
		}
		return intsetEach(blob, s.Int)

	case TypeHashZipmap:
		blob, err := r.str(r.num[:])
		if err != nil {
			return err
		}
		if err := s.Begin(KindHash, typ, 0); err != nil {
			return err
		}
		n := 0
		if err := zipmapEach(blob, func(f, v []byte) error { n++; return s.Pair(f, v) }); err != nil {
			return err
		}
		if n == 0 {
			return ErrEmpty
		}
		return nil

	case TypeHashZiplist, TypeHashListpack, TypeZSetZiplist, TypeZSetListpack:
		blob, err := r.str(r.num[:])
		if err != nil {
			return err
		}
		kind := KindHash
		if typ == TypeZSetZiplist || typ == TypeZSetListpack {
			kind = KindZSet
		}
		if err := s.Begin(kind, typ, 0); err != nil {
			return err
		}
		// Elements come in pairs; the first of a pair is kept (copied
		// when it is an integer) until the second arrives.
		var first []byte
		var fbuf, vbuf [24]byte
		odd, n := false, 0
		each := func(e *lpEntry) error {
			if !odd {
				first = e.bytes(fbuf[:])
				odd = true
				return nil
			}
			odd = false
			n++
			if kind == KindHash {
				return s.Pair(first, e.bytes(vbuf[:]))
			}
			score := float64(e.ival)
			if !e.isInt {
				score = strtodPrefix(e.str)
			}
			if math.IsNaN(score) {
				return ErrFormat
			}
			return s.Scored(first, score)
		}
		if typ == TypeHashZiplist || typ == TypeZSetZiplist {
			err = ziplistEach(blob, each)
		} else {
			err = lpEach(blob, each)
		}
		if err != nil {
			return err
		}
		if odd {
			return ErrFormat
		}
		if n == 0 {
			return ErrEmpty
		}
		return nil

	case TypeModule, TypeModule2, TypeStreamListpacks, TypeStreamListpacks2:
		return ErrUnsupported
	}
	return ErrFormat
}

// textDouble reads RDB_TYPE_ZSET's text score (rdbLoadDoubleValue).
func (r *reader) textDouble() (float64, error) {
	l, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch l {
	case 255:
		return math.Inf(-1), nil
	case 254:
		return math.Inf(1), nil
	case 253:
		return math.NaN(), nil
	}
	b, err := r.take(uint64(l))
	if err != nil {
		return 0, err
	}
	f, n := scanDouble(b)
	if n == 0 {
		return 0, ErrFormat
	}
	return f, nil
}

// strtodPrefix is strtod(s, NULL) on at most 127 bytes: the value of the
// longest prefix that reads as a number, 0 when none does (how Redis
// reads a sorted set's score stored as text in a listpack).
func strtodPrefix(s []byte) float64 {
	f, _ := scanDouble(s[:min(len(s), 127)])
	return f
}

// scanDouble parses the longest prefix of b (after leading spaces, up to
// a NUL) that C's strtod accepts, and returns its value and length (0
// when nothing parses).
func scanDouble(b []byte) (float64, int) {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	start := 0
	for start < len(b) && (b[start] == ' ' || (b[start] >= '\t' && b[start] <= '\r')) {
		start++
	}
	for end := len(b); end > start; end-- {
		t := string(b[start:end])
		if containsByte(t, '_') {
			continue
		}
		f, err := strconv.ParseFloat(t, 64)
		if err == nil || errors.Is(err, strconv.ErrRange) {
			return f, end
		}
	}
	return 0, 0
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}
