package zset

import (
	"math"
	"strconv"
)

// Geo indexing as Redis does it: a position is a 52-bit geohash (26 bits
// of latitude interleaved with 26 bits of longitude, latitude limited to
// the Web Mercator range) stored as the member's score; searches cover
// the area with the geohash box of the center and its eight neighbours at
// a precision chosen from the radius, then filter by exact distance
// (haversine on a sphere of Redis's radius). Every floating-point step
// follows Redis's order of operations so results match it bit for bit;
// explicit float64 conversions keep the compiler from fusing them.

// The coordinate limits of GEOADD.
const (
	GeoLatMin  = -85.05112878
	GeoLatMax  = 85.05112878
	GeoLongMin = -180.0
	GeoLongMax = 180.0
	geoStepMax = 26

	degToRad     = math.Pi / 180.0
	earthRadius  = 6372797.560856
	mercatorMax  = 20037726.37
	geoAlphabet  = "0123456789bcdefghjkmnpqrstuvwxyz"
	geohashChars = 11
)

// GeoHash is a geohash of step*2 bits.
type GeoHash struct {
	Bits uint64
	Step uint8
}

func (h GeoHash) zero() bool { return h.Bits == 0 && h.Step == 0 }

type geoRange struct{ min, max float64 }

type geoArea struct {
	hash     GeoHash
	lon, lat geoRange
}

var (
	mercLong = geoRange{GeoLongMin, GeoLongMax}
	mercLat  = geoRange{GeoLatMin, GeoLatMax}
)

// spread moves the low 32 bits of v to the even bit positions.
func spread(v uint64) uint64 {
	v &= 0xFFFFFFFF
	v = (v | v<<16) & 0x0000FFFF0000FFFF
	v = (v | v<<8) & 0x00FF00FF00FF00FF
	v = (v | v<<4) & 0x0F0F0F0F0F0F0F0F
	v = (v | v<<2) & 0x3333333333333333
	v = (v | v<<1) & 0x5555555555555555
	return v
}

// squash is spread's inverse: the even bits of v, packed.
func squash(v uint64) uint64 {
	v &= 0x5555555555555555
	v = (v | v>>1) & 0x3333333333333333
	v = (v | v>>2) & 0x0F0F0F0F0F0F0F0F
	v = (v | v>>4) & 0x00FF00FF00FF00FF
	v = (v | v>>8) & 0x0000FFFF0000FFFF
	v = (v | v>>16) & 0x00000000FFFFFFFF
	return v
}

// interleave puts lat in the even bits and lon in the odd ones.
func interleave(lat, lon uint32) uint64 { return spread(uint64(lat)) | spread(uint64(lon))<<1 }

// deinterleave returns (lat, lon) of interleaved bits.
func deinterleave(bits uint64) (uint32, uint32) {
	return uint32(squash(bits)), uint32(squash(bits >> 1))
}

func geoEncode(lonR, latR geoRange, lon, lat float64, step uint8) (GeoHash, bool) {
	if step > 32 || step == 0 {
		return GeoHash{}, false
	}
	if lon > GeoLongMax || lon < GeoLongMin || lat > GeoLatMax || lat < GeoLatMin {
		return GeoHash{}, false
	}
	if lat < latR.min || lat > latR.max || lon < lonR.min || lon > lonR.max {
		return GeoHash{Step: step}, false
	}
	latOff := float64(lat-latR.min) / float64(latR.max-latR.min)
	lonOff := float64(lon-lonR.min) / float64(lonR.max-lonR.min)
	scale := float64(uint64(1) << step)
	latOff = float64(latOff * scale)
	lonOff = float64(lonOff * scale)
	return GeoHash{Bits: interleave(uint32(latOff), uint32(lonOff)), Step: step}, true
}

func geoDecode(lonR, latR geoRange, h GeoHash) (geoArea, bool) {
	if h.zero() {
		return geoArea{}, false
	}
	ilat, ilon := deinterleave(h.Bits)
	div := float64(uint64(1) << h.Step)
	latScale := float64(latR.max - latR.min)
	lonScale := float64(lonR.max - lonR.min)
	a := geoArea{hash: h}
	a.lat.min = latR.min + float64(float64(float64(ilat)/div)*latScale)
	a.lat.max = latR.min + float64(float64(float64(ilat+1)/div)*latScale)
	a.lon.min = lonR.min + float64(float64(float64(ilon)/div)*lonScale)
	a.lon.max = lonR.min + float64(float64(float64(ilon+1)/div)*lonScale)
	return a, true
}

// align52 is the score of a hash's first position.
func align52(h GeoHash) uint64 { return h.Bits << (52 - uint(h.Step)*2) }

// GeoEncode is the score of a position (GEOADD); ok is false outside the
// limits.
func GeoEncode(lon, lat float64) (float64, bool) {
	h, ok := geoEncode(mercLong, mercLat, lon, lat, geoStepMax)
	if !ok {
		return 0, false
	}
	return float64(align52(h)), true
}

// GeoScoreBits converts a score to the 64-bit hash as C's (uint64_t) cast
// compiles on x86-64 (scores of members not added by GEOADD decode to
// something, as in Redis): below 2^63 a signed conversion, above it a
// conversion of score-2^63 with the top bit flipped, and the "integer
// indefinite" 0x8000000000000000 for what does not fit.
func GeoScoreBits(score float64) uint64 {
	const two63 = 9223372036854775808.0
	cvt := func(f float64) uint64 {
		if math.IsNaN(f) || f >= two63 || f < -two63 {
			return 1 << 63
		}
		return uint64(int64(f))
	}
	if score < two63 {
		return cvt(score)
	}
	return cvt(score-two63) ^ (1 << 63)
}

// GeoDecode is the position (longitude, latitude) of a score.
func GeoDecode(score float64) (float64, float64, bool) {
	a, ok := geoDecode(mercLong, mercLat, GeoHash{Bits: GeoScoreBits(score), Step: geoStepMax})
	if !ok {
		return 0, 0, false
	}
	lon := float64(a.lon.min+a.lon.max) / 2
	lon = min(max(lon, GeoLongMin), GeoLongMax)
	lat := float64(a.lat.min+a.lat.max) / 2
	lat = min(max(lat, GeoLatMin), GeoLatMax)
	return lon, lat, true
}

// GeoHashString is GEOHASH's standard 11-character geohash of a score.
func GeoHashString(dst []byte, score float64) ([]byte, bool) {
	lon, lat, ok := GeoDecode(score)
	if !ok {
		return dst, false
	}
	h, _ := geoEncode(geoRange{-180, 180}, geoRange{-90, 90}, lon, lat, geoStepMax)
	for i := 0; i < geohashChars; i++ {
		idx := 0
		if i < 10 {
			idx = int(h.Bits>>(52-uint((i+1)*5))) & 0x1f
		}
		dst = append(dst, geoAlphabet[idx])
	}
	return dst, true
}

func degRad(d float64) float64 { return float64(d * degToRad) }

func radDeg(r float64) float64 { return float64(r / degToRad) }

func geoLatDistance(lat1, lat2 float64) float64 {
	return float64(earthRadius * math.Abs(degRad(lat2)-degRad(lat1)))
}

// GeoDistance is the haversine distance in meters.
func GeoDistance(lon1, lat1, lon2, lat2 float64) float64 {
	lon1r, lon2r := degRad(lon1), degRad(lon2)
	v := math.Sin(float64(lon2r-lon1r) / 2)
	if v == 0 {
		return geoLatDistance(lat1, lat2)
	}
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := math.Sin(float64(lat2r-lat1r) / 2)
	a := float64(u*u) + float64(float64(float64(math.Cos(lat1r)*math.Cos(lat2r))*v)*v)
	return float64(2.0*earthRadius) * math.Asin(math.Sqrt(a))
}

// FormatGeoDistance formats a distance as Redis replies it: four
// decimals, rounded half to even.
func FormatGeoDistance(dst []byte, d float64) []byte {
	if d == 0 {
		return append(dst, "0.0000"...)
	}
	v := math.RoundToEven(d * 10000)
	var n uint64
	neg := v < 0
	switch {
	case v <= -9223372036854775808.0:
		n = 1 << 63
	case neg:
		n = uint64(-int64(v))
	case v >= 9223372036854775808.0:
		n = 1 << 63
		neg = true
	default:
		n = uint64(int64(v))
	}
	if neg {
		dst = append(dst, '-')
	}
	digits := strconv.AppendUint(nil, n, 10)
	for len(digits) < 5 {
		digits = append([]byte{'0'}, digits...)
	}
	dst = append(dst, digits[:len(digits)-4]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-4:]...)
}

// FormatGeoCoord formats a coordinate as Redis's human long double
// (%.17Lf with trailing zeros dropped).
func FormatGeoCoord(dst []byte, f float64) []byte {
	if math.IsInf(f, 0) {
		if f > 0 {
			return append(dst, "inf"...)
		}
		return append(dst, "-inf"...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', 17, 64)
	for dst[len(dst)-1] == '0' {
		dst = dst[:len(dst)-1]
	}
	if dst[len(dst)-1] == '.' {
		dst = dst[:len(dst)-1]
	}
	if string(dst[start:]) == "-0" {
		dst = append(dst[:start], '0')
	}
	return dst
}

// GeoShape is a search area: a circle (Radius) or a box (Width x Height),
// around (Lon, Lat), in units of Conversion meters.
type GeoShape struct {
	Lon, Lat      float64
	Box           bool
	Radius        float64
	Width, Height float64
	Conversion    float64
	bounds        [4]float64 // min lon, min lat, max lon, max lat
}

// Within reports whether a score is in the shape, with its position and
// its distance from the center in meters. The distance is computed with
// Go's math (use GeoDistanceExact for the one to report); a point within
// a hair of the edge is decided with the exact distance.
func (s *GeoShape) Within(score float64) (lon, lat, dist float64, ok bool) {
	lon, lat, ok = GeoDecode(score)
	if !ok {
		return 0, 0, 0, false
	}
	if !s.Box {
		limit := float64(s.Radius * s.Conversion)
		dist = GeoDistance(s.Lon, s.Lat, lon, lat)
		if nearEdge(dist, limit) {
			dist = GeoDistanceExact(s.Lon, s.Lat, lon, lat)
		}
		return lon, lat, dist, dist <= limit
	}
	w, h := float64(s.Width*s.Conversion), float64(s.Height*s.Conversion)
	if geoLatDistance(lat, s.Lat) > h/2 {
		return lon, lat, 0, false
	}
	lonDist := GeoDistance(lon, lat, s.Lon, lat)
	if nearEdge(lonDist, w/2) {
		lonDist = GeoDistanceExact(lon, lat, s.Lon, lat)
	}
	if lonDist > w/2 {
		return lon, lat, 0, false
	}
	return lon, lat, GeoDistance(s.Lon, s.Lat, lon, lat), true
}

// nearEdge reports whether d is close enough to limit for the last bits
// of the distance to matter.
func nearEdge(d, limit float64) bool { return math.Abs(d-limit) <= 1e-12*math.Max(limit, 1) }

func geoEstimateSteps(meters, lat float64) uint8 {
	if meters == 0 {
		return 26
	}
	step := 1
	for meters < mercatorMax {
		meters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint8(min(max(step, 1), 26))
}

func (s *GeoShape) boundingBox() {
	height := float64(s.Conversion * s.Radius)
	width := height
	if s.Box {
		height = float64(s.Conversion * float64(s.Height/2))
		width = float64(s.Conversion * float64(s.Width/2))
	}
	latDelta := radDeg(float64(height / earthRadius))
	top := radDeg(float64(float64(width/earthRadius) / math.Cos(degRad(s.Lat+latDelta))))
	bottom := radDeg(float64(float64(width/earthRadius) / math.Cos(degRad(s.Lat-latDelta))))
	if s.Lat < 0 {
		s.bounds[0], s.bounds[2] = s.Lon-bottom, s.Lon+bottom
	} else {
		s.bounds[0], s.bounds[2] = s.Lon-top, s.Lon+top
	}
	s.bounds[1], s.bounds[3] = s.Lat-latDelta, s.Lat+latDelta
}

func moveX(h *GeoHash, d int) {
	if d == 0 {
		return
	}
	x := h.Bits & 0xaaaaaaaaaaaaaaaa
	y := h.Bits & 0x5555555555555555
	zz := uint64(0x5555555555555555) >> (64 - uint(h.Step)*2)
	if d > 0 {
		x += zz + 1
	} else {
		x |= zz
		x -= zz + 1
	}
	x &= uint64(0xaaaaaaaaaaaaaaaa) >> (64 - uint(h.Step)*2)
	h.Bits = x | y
}

func moveY(h *GeoHash, d int) {
	if d == 0 {
		return
	}
	x := h.Bits & 0xaaaaaaaaaaaaaaaa
	y := h.Bits & 0x5555555555555555
	zz := uint64(0xaaaaaaaaaaaaaaaa) >> (64 - uint(h.Step)*2)
	if d > 0 {
		y += zz + 1
	} else {
		y |= zz
		y -= zz + 1
	}
	y &= uint64(0x5555555555555555) >> (64 - uint(h.Step)*2)
	h.Bits = x | y
}

// geoNeighbors are the boxes around h, in Redis's order: north, south,
// east, west, north-east, north-west, south-east, south-west.
func geoNeighbors(h GeoHash) [8]GeoHash {
	var n [8]GeoHash
	moves := [8][2]int{{0, 1}, {0, -1}, {1, 0}, {-1, 0}, {1, 1}, {-1, 1}, {1, -1}, {-1, -1}}
	for i, m := range moves {
		n[i] = h
		moveX(&n[i], m[0])
		moveY(&n[i], m[1])
	}
	return n
}

const (
	nNorth = iota
	nSouth
	nEast
	nWest
	nNorthEast
	nNorthWest
	nSouthEast
	nSouthWest
)

// Boxes are the geohash boxes a search scans, in Redis's order (the
// center first); zero boxes are skipped.
func (s *GeoShape) Boxes() [9]GeoHash {
	s.boundingBox()
	minLon, minLat, maxLon, maxLat := s.bounds[0], s.bounds[1], s.bounds[2], s.bounds[3]
	radius := s.Radius
	if s.Box {
		hw, hh := float64(s.Width/2), float64(s.Height/2)
		radius = math.Sqrt(float64(hw*hw) + float64(hh*hh))
	}
	radius = float64(radius * s.Conversion)
	steps := geoEstimateSteps(radius, s.Lat)
	hash, _ := geoEncode(mercLong, mercLat, s.Lon, s.Lat, steps)
	nb := geoNeighbors(hash)
	area, _ := geoDecode(mercLong, mercLat, hash)
	north, _ := geoDecode(mercLong, mercLat, nb[nNorth])
	south, _ := geoDecode(mercLong, mercLat, nb[nSouth])
	east, _ := geoDecode(mercLong, mercLat, nb[nEast])
	west, _ := geoDecode(mercLong, mercLat, nb[nWest])
	decrease := north.lat.max < maxLat || south.lat.min > minLat || east.lon.max < maxLon || west.lon.min > minLon
	if steps > 1 && decrease {
		steps--
		hash, _ = geoEncode(mercLong, mercLat, s.Lon, s.Lat, steps)
		nb = geoNeighbors(hash)
		area, _ = geoDecode(mercLong, mercLat, hash)
	}
	if steps >= 2 {
		if area.lat.min < minLat {
			nb[nSouth], nb[nSouthWest], nb[nSouthEast] = GeoHash{}, GeoHash{}, GeoHash{}
		}
		if area.lat.max > maxLat {
			nb[nNorth], nb[nNorthEast], nb[nNorthWest] = GeoHash{}, GeoHash{}, GeoHash{}
		}
		if area.lon.min < minLon {
			nb[nWest], nb[nSouthWest], nb[nNorthWest] = GeoHash{}, GeoHash{}, GeoHash{}
		}
		if area.lon.max > maxLon {
			nb[nEast], nb[nSouthEast], nb[nNorthEast] = GeoHash{}, GeoHash{}, GeoHash{}
		}
	}
	var boxes [9]GeoHash
	boxes[0] = hash
	copy(boxes[1:], nb[:])
	return boxes
}

// BoxScores is the score range [min, max) of the positions in box h.
func BoxScores(h GeoHash) (float64, float64) {
	min := align52(h)
	h.Bits++
	return float64(min), float64(align52(h))
}

// IsZero reports whether a box was excluded.
func (h GeoHash) IsZero() bool { return h.zero() }
