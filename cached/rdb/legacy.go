package rdb

import (
	"encoding/binary"
	"errors"
)

// Intsets (sets of integers) and the encodings of older Redis versions a
// Redis 7.0 RESTORE still reads: ziplists (Redis 3.2 to 6.2) and zipmaps
// (Redis 2.x hashes).

var (
	errIntset  = errors.New("invalid intset")
	errZiplist = errors.New("invalid ziplist")
	errZipmap  = errors.New("invalid zipmap")
)

// AppendIntset appends the intset holding ints (sorted, distinct) with
// the narrowest element width that fits them all.
func AppendIntset(dst []byte, ints []int64) []byte {
	w := 2
	for _, v := range ints {
		switch {
		case v < -2147483648 || v > 2147483647:
			w = 8
		case w < 4 && (v < -32768 || v > 32767):
			w = 4
		}
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(w))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ints)))
	for _, v := range ints {
		switch w {
		case 2:
			dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
		case 4:
			dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
		default:
			dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
		}
	}
	return dst
}

// intsetEach validates an intset (width, length, strictly increasing
// members) and calls fn for each member.
func intsetEach(b []byte, fn func(v int64) error) error {
	if len(b) < 8 {
		return errIntset
	}
	w := int(binary.LittleEndian.Uint32(b))
	n := int(binary.LittleEndian.Uint32(b[4:]))
	if (w != 2 && w != 4 && w != 8) || n > (len(b)-8)/w || 8+n*w != len(b) {
		return errIntset
	}
	var prev int64
	for i := 0; i < n; i++ {
		p := b[8+i*w:]
		var v int64
		switch w {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(p)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(p)))
		default:
			v = int64(binary.LittleEndian.Uint64(p))
		}
		if i > 0 && v <= prev {
			return errIntset
		}
		prev = v
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// ziplistEach validates a ziplist (sizes, every entry's encoding and
// previous-entry length, the tail offset, the terminator, the count) and
// calls fn for each element.
func ziplistEach(zl []byte, fn func(e *lpEntry) error) error {
	const hdr = 10
	if len(zl) < hdr+1 || int(binary.LittleEndian.Uint32(zl)) != len(zl) || zl[len(zl)-1] != 0xFF {
		return errZiplist
	}
	tail := int(binary.LittleEndian.Uint32(zl[4:]))
	want := int(binary.LittleEndian.Uint16(zl[8:]))
	end := len(zl) - 1
	n, prevSize, last := 0, 0, hdr
	var e lpEntry
	for p := hdr; p < end; {
		start := p
		// previous entry length
		var prevlen int
		if zl[p] < 254 {
			prevlen = int(zl[p])
			p++
		} else if zl[p] == 254 {
			if p+5 > end {
				return errZiplist
			}
			prevlen = int(binary.LittleEndian.Uint32(zl[p+1:]))
			p += 5
		} else {
			return errZiplist
		}
		if prevlen != prevSize {
			return errZiplist
		}
		if p >= end {
			return errZiplist
		}
		c := zl[p]
		e = lpEntry{}
		var h, dlen int
		switch {
		case c>>6 == 0:
			h, dlen = 1, int(c&0x3F)
		case c>>6 == 1:
			if p+2 > end {
				return errZiplist
			}
			h, dlen = 2, int(c&0x3F)<<8|int(zl[p+1])
		case c>>6 == 2:
			if p+5 > end {
				return errZiplist
			}
			h, dlen = 5, int(binary.BigEndian.Uint32(zl[p+1:]))
		case c == 0xC0, c == 0xD0, c == 0xE0, c == 0xF0, c == 0xFE:
			w := 1
			switch c {
			case 0xC0:
				w = 2
			case 0xD0:
				w = 4
			case 0xE0:
				w = 8
			case 0xF0:
				w = 3
			}
			if p+1+w > end {
				return errZiplist
			}
			var u uint64
			for i := w - 1; i >= 0; i-- {
				u = u<<8 | uint64(zl[p+1+i])
			}
			h, e.isInt, e.ival = 1+w, true, int64(u<<(64-8*w))>>(64-8*w)
		case c >= 0xF1 && c <= 0xFD:
			h, e.isInt, e.ival = 1, true, int64(c&0x0F)-1
		default:
			return errZiplist
		}
		if dlen > end || p+h+dlen > end {
			return errZiplist
		}
		if !e.isInt {
			e.str = zl[p+h : p+h+dlen]
		}
		p += h + dlen
		if err := fn(&e); err != nil {
			return err
		}
		n++
		prevSize = p - start
		last = start
	}
	if (n > 0 && tail != last) || (n == 0 && tail != hdr) || (want != 65535 && want != n) {
		return errZiplist
	}
	return nil
}

// zipmapEach validates a zipmap and calls fn for each field and value.
func zipmapEach(zm []byte, fn func(f, v []byte) error) error {
	if len(zm) < 2 || zm[len(zm)-1] != 0xFF {
		return errZipmap
	}
	p, end := 1, len(zm)-1
	readLen := func() (int, bool) {
		if p >= end {
			return 0, false
		}
		c := zm[p]
		switch {
		case c < 254:
			p++
			return int(c), true
		case c == 254:
			if p+5 > end {
				return 0, false
			}
			l := int(binary.LittleEndian.Uint32(zm[p+1:]))
			p += 5
			return l, true
		}
		return 0, false
	}
	for p < end {
		kl, ok := readLen()
		if !ok || kl > end-p {
			return errZipmap
		}
		k := zm[p : p+kl]
		p += kl
		vl, ok := readLen()
		if !ok || p >= end {
			return errZipmap
		}
		free := int(zm[p])
		p++
		if vl > end-p || free > end-p-vl {
			return errZipmap
		}
		v := zm[p : p+vl]
		p += vl + free
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}
