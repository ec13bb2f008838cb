package zset

import (
	"encoding/binary"
	"math"
)

// The small encoding keeps its entries packed in one byte slice, in
// order, as Redis's listpack does: one allocation for the whole set and a
// cache-friendly scan. An entry is
//
//	uvarint(len(member)) member score(8 bytes, little endian) backlen
//
// where backlen is the length of everything before it in the entry, as a
// uvarint written backwards, so that the entry before an offset can be
// found from its end (reverse ranges).

// lpEntrySize is the encoded size of an entry with a member of n bytes.
func lpEntrySize(n int) int {
	body := uvarintLen(uint64(n)) + n + 8
	return body + uvarintLen(uint64(body))
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// lpPut writes an entry at dst[0:lpEntrySize(len(m))].
func lpPut(dst []byte, m string, score float64) {
	n := binary.PutUvarint(dst, uint64(len(m)))
	n += copy(dst[n:], m)
	binary.LittleEndian.PutUint64(dst[n:], math.Float64bits(score))
	n += 8
	// backlen: the uvarint of n, bytes reversed.
	var tmp [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(tmp[:], uint64(n))
	for i := 0; i < k; i++ {
		dst[n+i] = tmp[k-1-i]
	}
}

// lpAt decodes the entry at off: its member (a view into lp), its score
// and the offset of the next entry.
func lpAt(lp []byte, off int) ([]byte, float64, int) {
	l, n := binary.Uvarint(lp[off:])
	p := off + n
	m := lp[p : p+int(l) : p+int(l)]
	p += int(l)
	score := math.Float64frombits(binary.LittleEndian.Uint64(lp[p:]))
	p += 8
	body := p - off
	return m, score, p + uvarintLen(uint64(body))
}

// lpScoreAt decodes only the score of the entry at off.
func lpScoreAt(lp []byte, off int) float64 {
	l, n := binary.Uvarint(lp[off:])
	p := off + n + int(l)
	return math.Float64frombits(binary.LittleEndian.Uint64(lp[p:]))
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
