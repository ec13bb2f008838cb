package hll

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// Decode renders a sparse value's opcodes as PFDEBUG DECODE does:
// "z:LEN" (ZERO), "Z:LEN" (XZERO), "v:VALUE,LEN" (VAL).
func Decode(b []byte) string {
	var out []byte
	for p := HdrSize; p < len(b); {
		if len(out) > 0 {
			out = append(out, ' ')
		}
		c := b[p]
		switch {
		case isZero(c):
			out = append(out, "z:"...)
			out = strconv.AppendInt(out, int64(zeroLen(c)), 10)
			p++
		case isXZero(c):
			out = append(out, "Z:"...)
			out = strconv.AppendInt(out, int64(xzeroLen(c, at(b, p+1))), 10)
			p += 2
		default:
			out = append(out, "v:"...)
			out = strconv.AppendInt(out, int64(valValue(c)), 10)
			out = append(out, ',')
			out = strconv.AppendInt(out, int64(valLen(c)), 10)
			p++
		}
	}
	return string(out)
}

// SelfTest is Redis's PFSELFTEST: register access on random values, then
// ten million elements added to a dense and a sparse value that must
// agree and stay within six standard errors of the truth. It returns
// Redis's "TESTFAILED ..." message on a failure.
func SelfTest(sparseMax int) error {
	regs := make([]byte, DenseSize-HdrSize)
	var want [Registers]uint8
	for j := 0; j < 1000; j++ {
		for i := range want {
			want[i] = uint8(rand.IntN(regMax + 1))
			denseSet(regs, i, want[i])
		}
		for i := range want {
			if v := denseGet(regs, i); v != want[i] {
				return fmt.Errorf("TESTFAILED Register %d should be %d but is %d", i, want[i], v)
			}
		}
	}
	dense, _ := ToDense(New())
	sparse := New()
	relerr := 1.04 / math.Sqrt(Registers)
	checkpoint := 1
	seed := rand.Uint64()
	var ele [8]byte
	for j := 1; j <= 10000000; j++ {
		binary.LittleEndian.PutUint64(ele[:], uint64(j)^seed)
		index, count := PatLen(ele[:])
		denseSetMax(dense[HdrSize:], index, count)
		sparse, _ = SetRegister(sparse, index, count, sparseMax)
		if j != checkpoint {
			continue
		}
		if j < sparseMax/2 && IsDense(sparse) {
			return fmt.Errorf("TESTFAILED sparse encoding not used")
		}
		cd, _ := Count(dense)
		cs, _ := Count(sparse)
		if cd != cs {
			return fmt.Errorf("TESTFAILED dense/sparse disagree")
		}
		maxerr := uint64(math.Ceil(relerr * 6 * float64(checkpoint)))
		if j == 10 {
			maxerr = 1
		}
		abserr := int64(checkpoint) - int64(cd)
		if abserr < 0 {
			abserr = -abserr
		}
		if uint64(abserr) > maxerr {
			return fmt.Errorf("TESTFAILED Too big error. card:%d abserr:%d", checkpoint, abserr)
		}
		checkpoint *= 10
	}
	return nil
}
