package zset

import (
	"encoding/binary"
	"math"
)

// The small encoding keeps its entries packed in one byte slice, in
// order, as Redis's listpack does: one allocation for the whole set and a
// cache-friendly scan. An entry is
//
//	uvarint(len(member)<<1 | integral) member score backlen
//
// where the score is a zigzag varint when it is integral (as a listpack
// stores integral scores as integers) and otherwise its 8 bytes, little
// endian; backlen is the length of everything before it in the entry, as
// a uvarint written backwards, so that the entry before an offset can be
// found from its end (reverse ranges).

// lpInt reports whether a score is kept as an integer, and which.
func lpInt(score float64) (int64, bool) {
	const limit = 1 << 62
	if score == math.Trunc(score) && score > -limit && score < limit {
		return int64(score), true
	}
	return 0, false
}

// lpEntrySize is the encoded size of an entry.
func lpEntrySize(n int, score float64) int {
	var body int
	if v, ok := lpInt(score); ok {
		body = uvarintLen(uint64(n)<<1|1) + n + uvarintLen(zigzag(v))
	} else {
		body = uvarintLen(uint64(n)<<1) + n + 8
	}
	return body + uvarintLen(uint64(body))
}

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// lpPut writes an entry at dst[0:lpEntrySize(len(m), score)].
func lpPut(dst []byte, m string, score float64) {
	var n int
	if v, ok := lpInt(score); ok {
		n = binary.PutUvarint(dst, uint64(len(m))<<1|1)
		n += copy(dst[n:], m)
		n += binary.PutUvarint(dst[n:], zigzag(v))
	} else {
		n = binary.PutUvarint(dst, uint64(len(m))<<1)
		n += copy(dst[n:], m)
		binary.LittleEndian.PutUint64(dst[n:], math.Float64bits(score))
		n += 8
	}
	// backlen: the uvarint of n, bytes reversed.
	var tmp [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(tmp[:], uint64(n))
	for i := 0; i < k; i++ {
		dst[n+i] = tmp[k-1-i]
	}
}

// lpScoreFrom decodes a score at p; it returns the score and the offset
// after it.
func lpScoreFrom(lp []byte, p int, integral bool) (float64, int) {
	if integral {
		u, k := binary.Uvarint(lp[p:])
		return float64(unzigzag(u)), p + k
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(lp[p:])), p + 8
}

// lpAt decodes the entry at off: its member (a view into lp), its score
// and the offset of the next entry.
func lpAt(lp []byte, off int) ([]byte, float64, int) {
	h, n := binary.Uvarint(lp[off:])
	l := int(h >> 1)
	p := off + n
	m := lp[p : p+l : p+l]
	score, p := lpScoreFrom(lp, p+l, h&1 == 1)
	body := p - off
	return m, score, p + uvarintLen(uint64(body))
}

// lpScoreAt decodes only the score of the entry at off.
func lpScoreAt(lp []byte, off int) float64 {
	h, n := binary.Uvarint(lp[off:])
	score, _ := lpScoreFrom(lp, off+n+int(h>>1), h&1 == 1)
	return score
}

// lpPrev is the offset of the entry before the one at off (off > 0).
func lpPrev(lp []byte, off int) int {
	var v uint64
	var shift uint
	i := off - 1
	for {
		b := lp[i]
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			break
		}
		shift += 7
		i--
	}
	return i - int(v)
}
