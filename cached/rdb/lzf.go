package rdb

import "errors"

// LZF, as Redis compresses RDB strings (liblzf's format: literal runs of
// 1..32 bytes, back references of 3..264 bytes up to 8 KiB back).

var errLZF = errors.New("invalid LZF compressed data")

const (
	lzfHLog   = 16
	lzfHSize  = 1 << lzfHLog
	lzfMaxLit = 1 << 5
	lzfMaxOff = 1 << 13
	lzfMaxRef = 1<<8 + 1<<3
)

// lzfDecompress expands in into exactly n bytes.
func lzfDecompress(in []byte, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for ip := 0; ip < len(in); {
		ctrl := int(in[ip])
		ip++
		if ctrl < 1<<5 {
			run := ctrl + 1
			if len(out)+run > n || ip+run > len(in) {
				return nil, errLZF
			}
			out = append(out, in[ip:ip+run]...)
			ip += run
			continue
		}
		l := ctrl >> 5
		if ip >= len(in) {
			return nil, errLZF
		}
		if l == 7 {
			l += int(in[ip])
			ip++
			if ip >= len(in) {
				return nil, errLZF
			}
		}
		ref := len(out) - (ctrl&0x1f)<<8 - 1 - int(in[ip])
		ip++
		l += 2
		if len(out)+l > n || ref < 0 {
			return nil, errLZF
		}
		for ; l > 0; l-- { // may overlap: byte by byte
			out = append(out, out[ref])
			ref++
		}
	}
	if len(out) != n {
		return nil, errLZF
	}
	return out, nil
}

// lzfTable is the compressor's hash table. Slots hold a generation in
// their high half, so that a new compression starts with an empty table
// without clearing 512 KB.
type lzfTable struct {
	slot [lzfHSize]uint64
	gen  uint64
}

// get is the position recorded in slot i during this generation, or -1.
func (t *lzfTable) get(i uint32) int {
	if v := t.slot[i]; v>>32 == t.gen {
		return int(uint32(v))
	}
	return -1
}

func (t *lzfTable) put(i uint32, pos int) { t.slot[i] = t.gen<<32 | uint64(pos) }

// lzfCompress compresses in into at most max bytes and returns them, or
// nil when the result would not fit. It is liblzf's algorithm with
// Redis's settings (16-bit hash, "very fast" rehashing after a match)
// starting from an empty hash table, so it gives Redis's output.
func lzfCompress(in []byte, max int, htab *lzfTable) []byte {
	n := len(in)
	if n == 0 || max <= 0 || n >= 1<<32 {
		return nil
	}
	htab.gen++
	if htab.gen == 1<<32 {
		clear(htab.slot[:])
		htab.gen = 1
	}
	out := make([]byte, 0, max+1)
	idx := func(h uint32) uint32 { return ((h >> (3*8 - lzfHLog)) - h*5) & (lzfHSize - 1) }
	lit := 0
	out = append(out, 0) // the run's length byte, fixed when it ends
	ip := 0
	var hval uint32
	if n >= 2 {
		hval = uint32(in[0])<<8 | uint32(in[1])
	}
	for ip < n-2 {
		hval = hval<<8 | uint32(in[ip+2])
		slot := idx(hval)
		ref := htab.get(slot)
		htab.put(slot, ip)
		off := ip - ref - 1
		if ref > 0 && off < lzfMaxOff && in[ref+2] == in[ip+2] && in[ref] == in[ip] && in[ref+1] == in[ip+1] {
			l := 2
			maxlen := min(n-ip-l, lzfMaxRef)
			if len(out)+3+1 >= max {
				if len(out)-b2i(lit == 0)+3+1 >= max {
					return nil
				}
			}
			out[len(out)-lit-1] = byte(lit - 1)
			if lit == 0 {
				out = out[:len(out)-1]
			}
			l = matchLen(in, ref, ip, maxlen)
			l -= 2
			ip++
			if l < 7 {
				out = append(out, byte(off>>8+l<<5))
			} else {
				out = append(out, byte(off>>8+7<<5), byte(l-7))
			}
			out = append(out, byte(off))
			lit = 0
			out = append(out, 0)
			ip += l + 1
			if ip >= n-2 {
				break
			}
			ip -= 2
			hval = uint32(in[ip])<<8 | uint32(in[ip+1])
			hval = hval<<8 | uint32(in[ip+2])
			htab.put(idx(hval), ip)
			ip++
			hval = hval<<8 | uint32(in[ip+2])
			htab.put(idx(hval), ip)
			ip++
			continue
		}
		if len(out) >= max {
			return nil
		}
		lit++
		out = append(out, in[ip])
		ip++
		if lit == lzfMaxLit {
			out[len(out)-lit-1] = byte(lit - 1)
			lit = 0
			out = append(out, 0)
		}
	}
	if len(out)+3 > max {
		return nil
	}
	for ip < n {
		lit++
		out = append(out, in[ip])
		ip++
		if lit == lzfMaxLit {
			out[len(out)-lit-1] = byte(lit - 1)
			lit = 0
			out = append(out, 0)
		}
	}
	out[len(out)-lit-1] = byte(lit - 1)
	if lit == 0 {
		out = out[:len(out)-1]
	}
	return out
}

// matchLen extends a 3-byte match at ref and ip exactly as liblzf does:
// sixteen unchecked steps first when maxlen > 16 (which may run two bytes
// past maxlen, to the end of the input), then checked steps.
func matchLen(in []byte, ref, ip, maxlen int) int {
	l := 2
	if maxlen > 16 {
		for k := 0; k < 16; k++ {
			l++
			if in[ref+l] != in[ip+l] {
				return l
			}
		}
	}
	for {
		l++
		if l >= maxlen || in[ref+l] != in[ip+l] {
			return l
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
