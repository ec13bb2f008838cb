// Package hll is Redis's HyperLogLog, byte for byte: the value of a key
// PFADD writes is a string in Redis's own representation, so that a value
// written by Redis (GET then SET, or DUMP then RESTORE) reads and counts
// the same here, and the other way round.
//
// # Representation
//
// A 16-byte header ("HYLL", the encoding byte, three zero bytes, the
// cached cardinality as 8 little-endian bytes whose top bit set means
// "stale") followed by 16384 six-bit registers, in one of two encodings:
//
//   - dense: the registers packed little-endian, 6 bits each (12288
//     bytes; the value is always exactly [DenseSize] bytes);
//   - sparse: run-length opcodes, ZERO (00xxxxxx: 1..64 zero registers),
//     XZERO (01xxxxxx yyyyyyyy: 1..16384 zero registers) and VAL
//     (1vvvvvxx: 1..4 registers of value 1..32). A sparse value turns
//     dense when a register needs a value above 32 or the value would grow
//     beyond hll-sparse-max-bytes.
//
// An element is hashed with MurmurHash64A (seed 0xadc83b19): the low 14
// bits pick the register, the run of zero bits above them plus one is the
// candidate value. The cardinality is Ertl's improved raw estimator
// ("New cardinality estimation algorithms for HyperLogLog sketches",
// arXiv:1702.01284), as Redis 7 computes it from the register histogram.
//
// The sparse update reproduces Redis's in-place algorithm (opcode split,
// then merge of adjacent equal VAL opcodes within five opcodes), so the
// bytes are the same as Redis's after the same PFADDs; corrupt values are
// detected where Redis detects them and never read out of bounds.
package hll

import (
	"encoding/binary"
	"errors"
	"math"
)

// Redis's parameters.
const (
	P         = 14
	Q         = 64 - P
	Registers = 1 << P
	regBits   = 6
	regMax    = 1<<regBits - 1
	HdrSize   = 16
	DenseSize = HdrSize + (Registers*regBits+7)/8

	Dense  = 0 // the encoding byte of a dense value
	Sparse = 1 // the encoding byte of a sparse value

	// DefaultSparseMaxBytes is hll-sparse-max-bytes' default.
	DefaultSparseMaxBytes = 3000

	sparseValMaxValue = 32
	sparseValMaxLen   = 4
	sparseZeroMaxLen  = 64
	sparseXZeroMaxLen = 16384

	alphaInf = 0.721347520444481703680 // 0.5/ln(2)
	seed     = 0xadc83b19
)

// ErrCorrupt is Redis's INVALIDOBJ: a value with the right header whose
// registers cannot be decoded.
var ErrCorrupt = errors.New("corrupted HLL object")

// Valid reports whether b is a HyperLogLog value as Redis checks it
// (isHLLObjectOrReply): magic, a known encoding, and the exact size of a
// dense value. A sparse value's opcodes are checked only when read.
func Valid(b []byte) bool {
	if len(b) < HdrSize || string(b[:4]) != "HYLL" || b[4] > Sparse {
		return false
	}
	return b[4] != Dense || len(b) == DenseSize
}

// New returns an empty sparse HLL (with the stale flag set, as PFADD
// leaves a new key) with room for a few updates.
func New() []byte {
	n := HdrSize + (Registers+sparseXZeroMaxLen-1)/sparseXZeroMaxLen*2
	b := make([]byte, n, n+8)
	copy(b, "HYLL")
	b[4] = Sparse
	p := b[HdrSize:]
	for left := Registers; left > 0; {
		x := min(left, sparseXZeroMaxLen)
		setXZero(p, x)
		p = p[2:]
		left -= x
	}
	return b
}

// IsDense reports the dense encoding (of a Valid value).
func IsDense(b []byte) bool { return b[4] == Dense }

// CachedCard returns the cached cardinality and whether it is valid.
func CachedCard(b []byte) (uint64, bool) {
	if b[15]&0x80 != 0 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b[8:16]), true
}

// SetCachedCard stores card as the cached cardinality.
func SetCachedCard(b []byte, card uint64) { binary.LittleEndian.PutUint64(b[8:16], card) }

// Invalidate marks the cached cardinality stale.
func Invalidate(b []byte) { b[15] |= 0x80 }

// MurmurHash64A is Austin Appleby's 64-bit hash as Redis uses it (the
// little-endian reading of the input words).
func MurmurHash64A(key []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ uint64(len(key))*m
	for len(key) >= 8 {
		k := binary.LittleEndian.Uint64(key)
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
		key = key[8:]
	}
	switch len(key) {
	case 7:
		h ^= uint64(key[6]) << 48
		fallthrough
	case 6:
		h ^= uint64(key[5]) << 40
		fallthrough
	case 5:
		h ^= uint64(key[4]) << 32
		fallthrough
	case 4:
		h ^= uint64(key[3]) << 24
		fallthrough
	case 3:
		h ^= uint64(key[2]) << 16
		fallthrough
	case 2:
		h ^= uint64(key[1]) << 8
		fallthrough
	case 1:
		h ^= uint64(key[0])
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// PatLen returns ele's register and the value it proposes for it.
func PatLen(ele []byte) (index int, count uint8) {
	hash := MurmurHash64A(ele, seed)
	index = int(hash & (Registers - 1))
	hash >>= P
	hash |= 1 << Q
	count = 1
	for bit := uint64(1); hash&bit == 0; bit <<= 1 {
		count++
	}
	return index, count
}

// ---- dense ----

func denseGet(regs []byte, i int) uint8 {
	byteIdx := i * regBits / 8
	fb := uint(i * regBits & 7)
	b0 := uint(regs[byteIdx])
	var b1 uint
	if byteIdx+1 < len(regs) {
		b1 = uint(regs[byteIdx+1])
	}
	return uint8((b0>>fb | b1<<(8-fb)) & regMax)
}

func denseSet(regs []byte, i int, v uint8) {
	byteIdx := i * regBits / 8
	fb := uint(i * regBits & 7)
	fb8 := 8 - fb
	regs[byteIdx] &^= byte(regMax << fb)
	regs[byteIdx] |= byte(uint(v) << fb)
	if byteIdx+1 < len(regs) {
		regs[byteIdx+1] &^= byte(regMax >> fb8)
		regs[byteIdx+1] |= byte(uint(v) >> fb8)
	}
}

// denseSetMax raises register i to v; it reports whether it changed.
func denseSetMax(regs []byte, i int, v uint8) bool {
	if v > denseGet(regs, i) {
		denseSet(regs, i, v)
		return true
	}
	return false
}

// ---- sparse opcodes ----

func isZero(c byte) bool     { return c&0xc0 == 0 }
func isXZero(c byte) bool    { return c&0xc0 == 0x40 }
func isVal(c byte) bool      { return c&0x80 != 0 }
func zeroLen(c byte) int     { return int(c&0x3f) + 1 }
func valValue(c byte) int    { return int(c>>2&0x1f) + 1 }
func valLen(c byte) int      { return int(c&3) + 1 }
func xzeroLen(c, d byte) int { return (int(c&0x3f)<<8 | int(d)) + 1 }

func setXZero(p []byte, n int) {
	n--
	p[0] = byte(n>>8) | 0x40
	p[1] = byte(n)
}

func valByte(v, n int) byte { return byte((v-1)<<2|(n-1)) | 0x80 }

// at reads b[i], or the zero a C string has past its end.
func at(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// ToDense converts a sparse value to a new dense one (keeping the header
// and its cached cardinality); a dense value is returned as is.
func ToDense(b []byte) ([]byte, error) {
	if b[4] == Dense {
		return b, nil
	}
	d := make([]byte, DenseSize)
	copy(d, b[:HdrSize])
	d[4] = Dense
	regs := d[HdrSize:]
	idx := 0
	for p := HdrSize; p < len(b); {
		c := b[p]
		switch {
		case isZero(c):
			idx += zeroLen(c)
			p++
		case isXZero(c):
			idx += xzeroLen(c, at(b, p+1))
			p += 2
		default:
			n, v := valLen(c), valValue(c)
			if n+idx > Registers {
				p = len(b) // overflow: invalid
				idx = -1
				break
			}
			for ; n > 0; n-- {
				denseSet(regs, idx, uint8(v))
				idx++
			}
			p++
		}
	}
	if idx != Registers {
		return nil, ErrCorrupt
	}
	return d, nil
}

// sparseSet raises register index to count in the sparse value b, as
// Redis's hllSparseSet does. It returns the new value (b resliced, grown
// by append if needed, or a new dense value when promoted), and 1 if the
// register changed, 0 if not, -1 for a corrupt value.
func sparseSet(b []byte, index int, count uint8, sparseMax int) ([]byte, int) {
	if count > sparseValMaxValue {
		return promote(b, index, count)
	}
	// Room for the longest split (Redis makes room for 3 bytes; 5 covers
	// a corrupt value whose last opcode is a truncated XZERO).
	if cap(b)-len(b) < 5 {
		nb := make([]byte, len(b), len(b)+max(len(b)/2, 16))
		copy(nb, b)
		b = nb
	}
	// Step 1: find the opcode covering index.
	end := len(b)
	p := HdrSize
	prev := -1
	first, span := 0, 0
	for p < end {
		oplen := 1
		c := b[p]
		switch {
		case isZero(c):
			span = zeroLen(c)
		case isVal(c):
			span = valLen(c)
		default:
			span = xzeroLen(c, at(b, p+1))
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return b, -1
	}
	c := b[p]
	next := p + 1
	if isXZero(c) {
		next = p + 2
	}
	if next >= end {
		next = -1
	}
	var runlen int
	isZ, isX, isV := false, false, false
	switch {
	case isZero(c):
		isZ, runlen = true, zeroLen(c)
	case isXZero(c):
		isX, runlen = true, xzeroLen(c, at(b, p+1))
	default:
		isV, runlen = true, valLen(c)
	}
	updated := false
	if isV {
		old := valValue(c)
		if old >= int(count) {
			return b, 0 // case A
		}
		if runlen == 1 { // case B
			b[p] = valByte(int(count), 1)
			updated = true
		}
	}
	if !updated && isZ && runlen == 1 { // case C
		b[p] = valByte(int(count), 1)
		updated = true
	}
	if !updated {
		// Case D: split the opcode into up to three.
		var seq [5]byte
		n := 0
		last := first + span - 1
		if isZ || isX {
			if index != first {
				l := index - first
				if l > sparseZeroMaxLen {
					setXZero(seq[n:], l)
					n += 2
				} else {
					seq[n] = byte(l - 1)
					n++
				}
			}
			seq[n] = valByte(int(count), 1)
			n++
			if index != last {
				l := last - index
				if l > sparseZeroMaxLen {
					setXZero(seq[n:], l)
					n += 2
				} else {
					seq[n] = byte(l - 1)
					n++
				}
			}
		} else {
			cur := valValue(c)
			if index != first {
				seq[n] = valByte(cur, index-first)
				n++
			}
			seq[n] = valByte(int(count), 1)
			n++
			if index != last {
				seq[n] = valByte(cur, last-index)
				n++
			}
		}
		// Step 3: put the new sequence in place of the old opcode.
		oldlen := 1
		if isX {
			oldlen = 2
		}
		delta := n - oldlen
		if delta > 0 && len(b)+delta > sparseMax {
			return promote(b, index, count)
		}
		newLen := len(b) + delta
		if next >= 0 {
			tail := b[next:end]
			b = b[:max(end, newLen)]
			copy(b[next+delta:], tail)
		} else {
			b = b[:max(end, p+n)]
		}
		copy(b[p:], seq[:n])
		b = b[:newLen]
		end = newLen
	}
	// Step 4: merge adjacent VAL opcodes of the same value.
	if prev >= 0 {
		p = prev
	} else {
		p = HdrSize
	}
	for scan := 5; p < end; {
		if scan == 0 {
			break
		}
		scan--
		c := b[p]
		if isXZero(c) {
			p += 2
			continue
		} else if isZero(c) {
			p++
			continue
		}
		if p+1 < end && isVal(b[p+1]) {
			v1, v2 := valValue(c), valValue(b[p+1])
			if v1 == v2 {
				if l := valLen(c) + valLen(b[p+1]); l <= sparseValMaxLen {
					b[p+1] = valByte(v1, l)
					copy(b[p:end], b[p+1:end])
					end--
					b = b[:end]
					continue
				}
			}
		}
		p++
	}
	Invalidate(b)
	return b, 1
}

// promote converts b to dense and sets the register there.
func promote(b []byte, index int, count uint8) ([]byte, int) {
	d, err := ToDense(b)
	if err != nil {
		return b, -1
	}
	denseSetMax(d[HdrSize:], index, count)
	return d, 1
}

// Add adds ele to the valid HLL b. It returns the new value (b itself
// changed in place, resliced or grown, or a new dense value after a
// promotion) and 1 if a register changed, 0 if not, -1 if b is corrupt.
// The cached cardinality is not touched: the caller invalidates it.
func Add(b, ele []byte, sparseMax int) ([]byte, int) {
	index, count := PatLen(ele)
	return SetRegister(b, index, count, sparseMax)
}

// SetRegister raises register index to count (Add's work after the hash).
func SetRegister(b []byte, index int, count uint8, sparseMax int) ([]byte, int) {
	switch b[4] {
	case Dense:
		if denseSetMax(b[HdrSize:], index, count) {
			return b, 1
		}
		return b, 0
	case Sparse:
		return sparseSet(b, index, count, sparseMax)
	}
	return b, -1
}

// Merge raises regs[i] to the registers of the valid HLL b (PFMERGE and
// multi-key PFCOUNT).
func Merge(regs *[Registers]uint8, b []byte) error {
	if b[4] == Dense {
		r := b[HdrSize:]
		for i := range regs {
			if v := denseGet(r, i); v > regs[i] {
				regs[i] = v
			}
		}
		return nil
	}
	i := 0
	for p := HdrSize; p < len(b); {
		c := b[p]
		switch {
		case isZero(c):
			i += zeroLen(c)
			p++
		case isXZero(c):
			i += xzeroLen(c, at(b, p+1))
			p += 2
		default:
			n, v := valLen(c), uint8(valValue(c))
			if n+i > Registers {
				return ErrCorrupt
			}
			for ; n > 0; n-- {
				if v > regs[i] {
					regs[i] = v
				}
				i++
			}
			p++
		}
	}
	if i != Registers {
		return ErrCorrupt
	}
	return nil
}

// Count computes the cardinality of the valid HLL b (without its cache).
func Count(b []byte) (uint64, error) {
	var histo [64]int
	if b[4] == Dense {
		r := b[HdrSize:]
		for i := range Registers {
			histo[denseGet(r, i)]++
		}
	} else {
		idx := 0
		for p := HdrSize; p < len(b); {
			c := b[p]
			switch {
			case isZero(c):
				n := zeroLen(c)
				idx += n
				histo[0] += n
				p++
			case isXZero(c):
				n := xzeroLen(c, at(b, p+1))
				idx += n
				histo[0] += n
				p += 2
			default:
				n := valLen(c)
				idx += n
				histo[valValue(c)] += n
				p++
			}
		}
		if idx != Registers {
			return 0, ErrCorrupt
		}
	}
	return estimate(&histo), nil
}

// CountRegisters is the cardinality of plain byte registers (the union
// multi-key PFCOUNT builds).
func CountRegisters(regs *[Registers]uint8) uint64 {
	var histo [64]int
	for _, v := range regs {
		histo[v&63]++
	}
	return estimate(&histo)
}

func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y := 1.0
	z := x
	for {
		x *= x
		zp := z
		z += x * y
		y += y
		if zp == z {
			return z
		}
	}
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y := 1.0
	z := 1 - x
	for {
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		d := 1 - x
		z -= d * d * y
		if zp == z {
			return z / 3
		}
	}
}

func estimate(histo *[64]int) uint64 {
	const m = float64(Registers)
	z := m * tau((m-float64(histo[Q+1]))/m)
	for j := Q; j >= 1; j-- {
		z += float64(histo[j])
		z *= 0.5
	}
	z += m * sigma(float64(histo[0])/m)
	return uint64(math.Round(alphaInf * m * m / z))
}
