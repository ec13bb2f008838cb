package zset

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

const refPrec = 160

// bigSinCos is the Taylor series of sin and cos at 160 bits.
func bigSinCos(x float64) (*big.Float, *big.Float) {
	bx := new(big.Float).SetPrec(refPrec).SetFloat64(x)
	x2 := new(big.Float).SetPrec(refPrec).Mul(bx, bx)
	sin := new(big.Float).SetPrec(refPrec).Set(bx)
	cos := new(big.Float).SetPrec(refPrec).SetInt64(1)
	st := new(big.Float).SetPrec(refPrec).Set(bx)
	ct := new(big.Float).SetPrec(refPrec).SetInt64(1)
	for n := int64(1); n < 60; n++ {
		st.Mul(st, x2).Quo(st, big.NewFloat(float64((2*n)*(2*n+1)))).Neg(st)
		ct.Mul(ct, x2).Quo(ct, big.NewFloat(float64((2*n-1)*(2*n)))).Neg(ct)
		sin.Add(sin, st)
		cos.Add(cos, ct)
	}
	return sin, cos
}

// bigAsin solves sin(y) = a by Newton's method at 160 bits.
func bigAsin(a float64) *big.Float {
	y := new(big.Float).SetPrec(refPrec).SetFloat64(math.Asin(a))
	ba := new(big.Float).SetPrec(refPrec).SetFloat64(a)
	for i := 0; i < 4; i++ {
		yf, _ := y.Float64()
		// sin and cos of the big y: shift by the float part's series.
		s, c := bigSinCos(yf)
		d := new(big.Float).SetPrec(refPrec).Sub(y, new(big.Float).SetFloat64(yf))
		// sin(yf+d) ~ s + c*d - s*d^2/2, cos(yf+d) ~ c - s*d
		d2 := new(big.Float).SetPrec(refPrec).Mul(d, d)
		sy := new(big.Float).SetPrec(refPrec).Add(s, new(big.Float).Mul(c, d))
		sy.Sub(sy, new(big.Float).Quo(new(big.Float).Mul(s, d2), big.NewFloat(2)))
		cy := new(big.Float).SetPrec(refPrec).Sub(c, new(big.Float).Mul(s, d))
		step := new(big.Float).SetPrec(refPrec).Sub(sy, ba)
		step.Quo(step, cy)
		y.Sub(y, step)
	}
	return y
}

// TestTrigCorrectlyRounded checks the double-double sin, cos and asin
// against 160-bit references: every result is the double nearest the
// true value.
func TestTrigCorrectlyRounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	for i := 0; i < 400; i++ {
		x := (rng.Float64()*2 - 1) * math.Pi
		s, c := bigSinCos(x)
		if want, _ := s.Float64(); sinCR(x) != want {
			t.Errorf("sin(%v) = %v, want %v", x, sinCR(x), want)
		}
		if want, _ := c.Float64(); cosCR(x) != want {
			t.Errorf("cos(%v) = %v, want %v", x, cosCR(x), want)
		}
		a := rng.Float64()
		if i%4 == 0 {
			a = 1 - rng.Float64()*1e-9
		}
		if want, _ := bigAsin(a).Float64(); asinCR(a) != want {
			t.Errorf("asin(%v) = %v, want %v", a, asinCR(a), want)
		}
	}
}
