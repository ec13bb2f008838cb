package rdb

import (
	"encoding/binary"
	"errors"
	"strconv"

	"github.com/anvilstack/anvil/pkg/resp"
)

// Listpack: Redis 7's compact sequence (lists' quicklist nodes, small
// hashes and sorted sets). A 6-byte header (total bytes, element count
// or 65535 when unknown), the entries (encoding, data, then the entry's
// size written backwards as 7-bit groups), and 0xFF.

var errListpack = errors.New("invalid listpack")

const lpHdrSize = 6

// Listpack builds a listpack with Redis's encodings: an element that
// reads as an int64 (resp.ParseInt, Redis's lpStringToInt64) is stored as the smallest integer
// encoding, others as strings.
type Listpack struct {
	b []byte
	n int
}

// NewListpack starts an empty listpack in buf's memory.
func NewListpack(buf []byte) *Listpack {
	lp := &Listpack{}
	lp.Reset(buf)
	return lp
}

// Reset empties lp, reusing buf.
func (lp *Listpack) Reset(buf []byte) {
	lp.b = append(buf[:0], 0, 0, 0, 0, 0, 0)
	lp.n = 0
}

// Len is the number of elements.
func (lp *Listpack) Len() int { return lp.n }

// Size is the listpack's size in bytes once finished.
func (lp *Listpack) Size() int { return len(lp.b) + 1 }

// Append adds s, as an integer when it is one.
func (lp *Listpack) Append(s []byte) {
	if v, ok := resp.ParseInt(s); ok {
		lp.AppendInt(v)
		return
	}
	start := len(lp.b)
	n := len(s)
	switch {
	case n < 64:
		lp.b = append(lp.b, byte(n)|0x80)
	case n < 4096:
		lp.b = append(lp.b, byte(n>>8)|0xE0, byte(n))
	default:
		lp.b = append(lp.b, 0xF0, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	}
	lp.b = append(lp.b, s...)
	lp.backlen(len(lp.b) - start)
}

// AppendInt adds an integer element.
func (lp *Listpack) AppendInt(v int64) {
	start := len(lp.b)
	switch {
	case v >= 0 && v <= 127:
		lp.b = append(lp.b, byte(v))
	case v >= -4096 && v <= 4095:
		u := uint64(v) & (1<<13 - 1)
		lp.b = append(lp.b, byte(u>>8)|0xC0, byte(u))
	case v >= -32768 && v <= 32767:
		lp.b = append(lp.b, 0xF1, byte(v), byte(v>>8))
	case v >= -8388608 && v <= 8388607:
		lp.b = append(lp.b, 0xF2, byte(v), byte(v>>8), byte(v>>16))
	case v >= -2147483648 && v <= 2147483647:
		lp.b = append(lp.b, 0xF3, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	default:
		lp.b = append(lp.b, 0xF4)
		lp.b = binary.LittleEndian.AppendUint64(lp.b, uint64(v))
	}
	lp.backlen(len(lp.b) - start)
}

func (lp *Listpack) backlen(l int) {
	switch {
	case l <= 127:
		lp.b = append(lp.b, byte(l))
	case l < 16383:
		lp.b = append(lp.b, byte(l>>7), byte(l&127)|128)
	case l < 2097151:
		lp.b = append(lp.b, byte(l>>14), byte(l>>7&127)|128, byte(l&127)|128)
	case l < 268435455:
		lp.b = append(lp.b, byte(l>>21), byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
	default:
		lp.b = append(lp.b, byte(l>>28), byte(l>>21&127)|128, byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
	}
	lp.n++
}

// Bytes finishes the listpack (header and terminator) and returns it;
// lp must be Reset before more appends.
func (lp *Listpack) Bytes() []byte {
	lp.b = append(lp.b, 0xFF)
	binary.LittleEndian.PutUint32(lp.b, uint32(len(lp.b)))
	binary.LittleEndian.PutUint16(lp.b[4:], uint16(min(lp.n, 65535)))
	return lp.b
}

// lpEntry is one decoded listpack or ziplist element: a string view, or
// an integer.
type lpEntry struct {
	str   []byte
	ival  int64
	isInt bool
}

// bytes returns the element as a string, formatting an integer into buf.
func (e *lpEntry) bytes(buf []byte) []byte {
	if e.isInt {
		return strconv.AppendInt(buf[:0], e.ival, 10)
	}
	return e.str
}

// lpEach validates the listpack lp completely (header, every entry and
// its back length, the terminator, the count) and calls fn for each
// element.
func lpEach(lp []byte, fn func(e *lpEntry) error) error {
	if len(lp) < lpHdrSize+1 || int(binary.LittleEndian.Uint32(lp)) != len(lp) || lp[len(lp)-1] != 0xFF {
		return errListpack
	}
	want := int(binary.LittleEndian.Uint16(lp[4:]))
	end := len(lp) - 1
	n := 0
	var e lpEntry
	for p := lpHdrSize; p < end; {
		c := lp[p]
		var hdr, dlen int
		e = lpEntry{}
		switch {
		case c&0x80 == 0:
			hdr, e.isInt, e.ival = 1, true, int64(c&0x7F)
		case c&0xC0 == 0x80:
			hdr, dlen = 1, int(c&0x3F)
		case c&0xE0 == 0xC0:
			if p+2 > end {
				return errListpack
			}
			u := uint64(c&0x1F)<<8 | uint64(lp[p+1])
			hdr, e.isInt, e.ival = 2, true, int64(u<<51)>>51
		case c&0xF0 == 0xE0:
			if p+2 > end {
				return errListpack
			}
			hdr, dlen = 2, int(c&0x0F)<<8|int(lp[p+1])
		case c == 0xF1 || c == 0xF2 || c == 0xF3 || c == 0xF4:
			w := int(c-0xF0) + 1 // 2, 3, 4 bytes
			if c == 0xF4 {
				w = 8
			}
			if p+1+w > end {
				return errListpack
			}
			var u uint64
			for i := w - 1; i >= 0; i-- {
				u = u<<8 | uint64(lp[p+1+i])
			}
			hdr, e.isInt, e.ival = 1+w, true, int64(u<<(64-8*w))>>(64-8*w)
		case c == 0xF0:
			if p+5 > end {
				return errListpack
			}
			hdr, dlen = 5, int(binary.LittleEndian.Uint32(lp[p+1:]))
		default:
			return errListpack
		}
		size := hdr + dlen
		if dlen > end || p+size > end {
			return errListpack
		}
		if !e.isInt {
			e.str = lp[p+hdr : p+size]
		}
		bl := backlenSize(size)
		if p+size+bl > end || decodeBacklen(lp[p+size:p+size+bl]) != size {
			return errListpack
		}
		if err := fn(&e); err != nil {
			return err
		}
		n++
		p += size + bl
		if p > end {
			return errListpack
		}
	}
	if want != 65535 && want != n {
		return errListpack
	}
	return nil
}

func backlenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// decodeBacklen reads a back length written forwards in b (its first
// byte is the most significant group).
func decodeBacklen(b []byte) int {
	v := 0
	for i, c := range b {
		if i > 0 && c&128 == 0 {
			return -1
		}
		if i == 0 && c&128 != 0 {
			return -1
		}
		v = v<<7 | int(c&127)
	}
	return v
}
