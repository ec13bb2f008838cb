package zset

import "math"

// Correctly rounded sin, cos and asin for the haversine distance.
//
// Redis computes distances with the C library's sin, cos and asin, which
// on glibc agree with the correctly rounded result in all but about 0.1%
// of cases; Go's math package differs from them in 15 to 35% of cases by
// an ulp or two. That never shows in GEODIST or WITHDIST (four decimals)
// away from a rounding tie, but it does in the 17 digits of a STOREDIST
// score and in the order of equidistant points. So the distances cached
// reports are computed with the functions below — double-double
// arithmetic (about 106 bits) rounded once to a double — while the
// search itself filters with Go's math and rechecks only points within a
// hair of the edge.

// dd is an unevaluated sum hi+lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func fastTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

func (a dd) add(b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s = fastTwoSum(s.hi, s.lo+t.hi)
	return fastTwoSum(s.hi, s.lo+t.lo)
}

func (a dd) neg() dd { return dd{-a.hi, -a.lo} }

func (a dd) mul(b dd) dd {
	p := twoProd(a.hi, b.hi)
	return fastTwoSum(p.hi, p.lo+(a.hi*b.lo+a.lo*b.hi))
}

func (a dd) mulf(b float64) dd {
	p := twoProd(a.hi, b)
	return fastTwoSum(p.hi, p.lo+a.lo*b)
}

// divf divides by a double.
func (a dd) divf(b float64) dd {
	q1 := a.hi / b
	r := a.add(twoProd(q1, b).neg())
	q2 := r.hi / b
	r = r.add(twoProd(q2, b).neg())
	return fastTwoSum(q1, q2).add(dd{r.hi / b, 0})
}

func (a dd) div(b dd) dd {
	q1 := a.hi / b.hi
	r := a.add(b.mulf(q1).neg())
	q2 := r.hi / b.hi
	r = r.add(b.mulf(q2).neg())
	return fastTwoSum(q1, q2).add(dd{r.hi / b.hi, 0})
}

func (a dd) float() float64 { return a.hi + a.lo }

// pi/2 in three parts.
const (
	pio2Hi  = 1.5707963267948966
	pio2Mid = 6.123233995736766e-17
	pio2Lo  = -1.4973849048591698e-33
)

// trigCoef are the Taylor coefficients (-1)^k/(2k+1)! of sin (sin[k])
// and (-1)^k/(2k)! of cos (cos[k]) in double-double, computed once.
type trigCoef struct{ sin, cos [14]dd }

var trig = func() trigCoef {
	var t trigCoef
	f := dd{1, 0} // 1/n!
	for n := 1; n <= 27; n++ {
		f = f.divf(float64(n))
		k := n / 2
		c := f
		if k%2 == 1 {
			c = c.neg()
		}
		if n%2 == 1 {
			t.sin[k] = c
		} else {
			t.cos[k] = c
		}
	}
	t.sin[0], t.cos[0] = dd{1, 0}, dd{1, 0}
	return t
}()

// ddTerms is how many of the lowest coefficients are summed in
// double-double; the higher terms are below 1e-11 of the result for
// |r| <= pi/4, so double precision is enough for them.
const ddTerms = 6

// series evaluates sum c[k] r2^k by Horner's rule.
func series(c *[14]dd, r2 dd) dd {
	p := c[13].hi
	for k := 12; k >= ddTerms; k-- {
		p = p*r2.hi + c[k].hi
	}
	q := dd{p, 0}
	for k := ddTerms - 1; k >= 0; k-- {
		q = q.mul(r2).add(c[k])
	}
	return q
}

// reduce returns r = x - k*pi/2 in double-double with |r| <= pi/4, and k
// mod 4.
func reduce(x float64) (dd, int64) {
	k := math.Round(x / pio2Hi)
	r := dd{x, 0}.add(twoProd(k, pio2Hi).neg()).add(twoProd(k, pio2Mid).neg()).add(twoProd(k, pio2Lo).neg())
	return r, int64(k) & 3
}

func sinOf(r dd) dd { return r.mul(series(&trig.sin, r.mul(r))) }

func cosOf(r dd) dd { return series(&trig.cos, r.mul(r)) }

// sincos returns sin(x) and cos(x) in double-double, for |x| < 1e6.
func sincos(x float64) (dd, dd) {
	r, q := reduce(x)
	s, c := sinOf(r), cosOf(r)
	switch q {
	case 0:
		return s, c
	case 1:
		return c, s.neg()
	case 2:
		return s.neg(), c.neg()
	}
	return c.neg(), s
}

func sinCR(x float64) float64 {
	if math.Abs(x) >= 1e6 || x == 0 || math.IsNaN(x) {
		return math.Sin(x)
	}
	r, q := reduce(x)
	switch q {
	case 0:
		return sinOf(r).float()
	case 1:
		return cosOf(r).float()
	case 2:
		return -sinOf(r).float()
	}
	return -cosOf(r).float()
}

func cosCR(x float64) float64 {
	if math.Abs(x) >= 1e6 || math.IsNaN(x) {
		return math.Cos(x)
	}
	r, q := reduce(x)
	switch q {
	case 0:
		return cosOf(r).float()
	case 1:
		return -sinOf(r).float()
	case 2:
		return -cosOf(r).float()
	}
	return sinOf(r).float()
}

// asinCR refines Go's asin with a Newton step in double-double: from an
// error of an ulp or two it leaves about 1e-30.
func asinCR(x float64) float64 {
	if x == 0 || math.Abs(x) >= 1 || math.IsNaN(x) {
		return math.Asin(x)
	}
	y := math.Asin(x)
	s, c := sincos(y)
	return dd{y, 0}.add(s.add(dd{-x, 0}).div(c).neg()).float()
}

// GeoDistanceExact is GeoDistance with correctly rounded sin, cos and
// asin, in Redis's order of operations: the distance Redis reports, to
// the last bit in all but rare cases.
func GeoDistanceExact(lon1, lat1, lon2, lat2 float64) float64 {
	lon1r, lon2r := degRad(lon1), degRad(lon2)
	v := sinCR(float64(lon2r-lon1r) / 2)
	if v == 0 {
		return geoLatDistance(lat1, lat2)
	}
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := sinCR(float64(lat2r-lat1r) / 2)
	a := float64(u*u) + float64(float64(float64(cosCR(lat1r)*cosCR(lat2r))*v)*v)
	return float64(2.0*earthRadius) * asinCR(math.Sqrt(a))
}
