package cached

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/cached/zset"
	"github.com/anvilstack/anvil/pkg/resp"
)

// The geo family: GEOADD GEOPOS GEODIST GEOHASH GEOSEARCH GEOSEARCHSTORE
// GEORADIUS GEORADIUSBYMEMBER and their _RO forms, on sorted sets whose
// scores are 52-bit geohashes (package zset's geo functions).

// geoKeys locks GEORADIUS's source and its STORE/STOREDIST destination.
func geoKeys(base int) func(args [][]byte) []int {
	return func(args [][]byte) []int {
		pos := []int{1}
		for i := base; i+1 < len(args); i++ {
			if EqualFold(args[i], "store") || EqualFold(args[i], "storedist") {
				pos = append(pos, i+1)
			}
		}
		return pos
	}
}

// Search variants (Redis's flags).
const (
	geoRadiusCoords = 1 << iota // around coordinates
	geoRadiusMember             // around a member
	geoNoStore                  // the _RO forms
	geoSearch                   // GEOSEARCH syntax
	geoSearchStore              // GEOSEARCHSTORE
)

func (s *Server) geoCommands() []*Command {
	st := s.zsetState()
	search := func(srcIdx, flags int) Handler {
		return func(c *Client, args [][]byte) { geoSearchGeneric(c, args, srcIdx, flags, st) }
	}
	return []*Command{
		{Name: "geoadd", KeySpecs: []string{"RW update"}, Arity: -5, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1,
			Handler: func(c *Client, args [][]byte) { cmdGeoAdd(c, args, st) },
			Group:   "geo", Since: "3.2.0", Summary: "Adds one or more members to a geospatial index. The key is created if it doesn't exist.", Complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set."},
		{Name: "geopos", KeySpecs: []string{"RO access"}, Arity: -2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Handler: cmdGeoPos,
			Group: "geo", Since: "3.2.0", Summary: "Returns the longitude and latitude of members from a geospatial index.", Complexity: "O(N) where N is the number of members requested."},
		{Name: "geodist", KeySpecs: []string{"RO access"}, Arity: -4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Handler: cmdGeoDist,
			Group: "geo", Since: "3.2.0", Summary: "Returns the distance between two members of a geospatial index.", Complexity: "O(log(N))"},
		{Name: "geohash", KeySpecs: []string{"RO access"}, Arity: -2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Handler: cmdGeoHash,
			Group: "geo", Since: "3.2.0", Summary: "Returns members from a geospatial index as geohash strings.", Complexity: "O(log(N)) for each member requested, where N is the number of elements in the sorted set."},
		{Name: "georadius", KeySpecs: []string{"RO access", "OW update"}, Arity: -6, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Keys: geoKeys(6),
			Handler: search(1, geoRadiusCoords),
			Group:   "geo", Since: "3.2.0", Summary: "Queries a geospatial index for members within a distance from a coordinate, optionally stores the result.", Complexity: "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."},
		{Name: "georadius_ro", KeySpecs: []string{"RO access"}, Arity: -6, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1,
			Handler: search(1, geoRadiusCoords|geoNoStore),
			Group:   "geo", Since: "3.2.10", Summary: "Returns members from a geospatial index that are within a distance from a coordinate.", Complexity: "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."},
		{Name: "georadiusbymember", KeySpecs: []string{"RO access", "OW update"}, Arity: -5, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Keys: geoKeys(5),
			Handler: search(1, geoRadiusMember),
			Group:   "geo", Since: "3.2.0", Summary: "Queries a geospatial index for members within a distance from a member, optionally stores the result.", Complexity: "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."},
		{Name: "georadiusbymember_ro", KeySpecs: []string{"RO access"}, Arity: -5, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1,
			Handler: search(1, geoRadiusMember|geoNoStore),
			Group:   "geo", Since: "3.2.10", Summary: "Returns members from a geospatial index that are within a distance from a member.", Complexity: "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."},
		{Name: "geosearch", KeySpecs: []string{"RO access"}, Arity: -7, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1,
			Handler: search(1, geoSearch),
			Group:   "geo", Since: "6.2.0", Summary: "Queries a geospatial index for members inside an area of a box or a circle.", Complexity: "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape"},
		{Name: "geosearchstore", KeySpecs: []string{"OW update", "RO access"}, Arity: -8, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 2, Step: 1,
			Handler: search(2, geoSearch|geoSearchStore),
			Group:   "geo", Since: "6.2.0", Summary: "Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result.", Complexity: "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape"},
	}
}

// geoLonLatArg parses a longitude and latitude and checks the limits.
func geoLonLatArg(c *Client, args [][]byte) (float64, float64, bool) {
	lon, ok := zsetFloatArg(c, args[0], "")
	if !ok {
		return 0, 0, false
	}
	lat, ok := zsetFloatArg(c, args[1], "")
	if !ok {
		return 0, 0, false
	}
	if lon < zset.GeoLongMin || lon > zset.GeoLongMax || lat < zset.GeoLatMin || lat > zset.GeoLatMax {
		c.ReplyError("ERR invalid longitude,latitude pair " + geoFormatPercentF(lon) + "," + geoFormatPercentF(lat))
		return 0, 0, false
	}
	return lon, lat, true
}

// geoFormatPercentF is C's %f.
func geoFormatPercentF(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}

// geoUnitArg is the meters in a unit.
func geoUnitArg(c *Client, u []byte) (float64, bool) {
	switch {
	case EqualFold(u, "m"):
		return 1, true
	case EqualFold(u, "km"):
		return 1000, true
	case EqualFold(u, "ft"):
		return 0.3048, true
	case EqualFold(u, "mi"):
		return 1609.34, true
	}
	c.ReplyError("ERR unsupported unit provided. please use M, KM, FT, MI")
	return 0, false
}

func cmdGeoAdd(c *Client, args [][]byte, st *zsetState) {
	var flags zset.AddFlags
	ch := false
	longIdx := 2
	for ; longIdx < len(args); longIdx++ {
		a := args[longIdx]
		switch {
		case EqualFold(a, "nx"):
			flags |= zset.AddNX
		case EqualFold(a, "xx"):
			flags |= zset.AddXX
		case EqualFold(a, "ch"):
			ch = true
		default:
			goto parsed
		}
	}
parsed:
	if (len(args)-longIdx)%3 != 0 || (flags&zset.AddNX != 0 && flags&zset.AddXX != 0) {
		c.ReplyError(ErrSyntax)
		return
	}
	n := (len(args) - longIdx) / 3
	if n == 0 {
		// ZADD with no score-member pair.
		c.ReplyError(ErrSyntax)
		return
	}
	scores := make([]float64, n)
	members := make([][]byte, n)
	for i := 0; i < n; i++ {
		lon, lat, ok := geoLonLatArg(c, args[longIdx+3*i:])
		if !ok {
			return
		}
		scores[i], _ = zset.GeoEncode(lon, lat)
		members[i] = args[longIdx+3*i+2]
	}
	zaddApply(c, args[1], flags, ch, members, scores, st)
}

func cmdGeoPos(c *Client, args [][]byte) {
	_, z, ok := zsetLookup(c, args[1], false)
	if !ok {
		return
	}
	c.ReplyArray(len(args) - 2)
	var buf []byte
	for _, m := range args[2:] {
		var score float64
		found := false
		if z != nil {
			score, found = z.Score(m)
		}
		if !found {
			c.ReplyNullArray()
			continue
		}
		lon, lat, ok := zset.GeoDecode(score)
		if !ok {
			c.ReplyNullArray()
			continue
		}
		c.ReplyArray(2)
		buf = geoReplyCoord(c, buf, lon)
		buf = geoReplyCoord(c, buf, lat)
	}
}

// geoReplyCoord replies a coordinate as Redis's addReplyHumanLongDouble:
// a bulk string in RESP2, a double in RESP3, in the same human format.
func geoReplyCoord(c *Client, buf []byte, f float64) []byte {
	if c.Proto() == resp.Proto3 {
		buf = append(zset.FormatGeoCoord(append(buf[:0], ','), f), '\r', '\n')
		c.ReplyRaw(buf)
	} else {
		buf = zset.FormatGeoCoord(buf[:0], f)
		c.ReplyBulk(buf)
	}
	return buf
}

func cmdGeoDist(c *Client, args [][]byte) {
	toMeter := 1.0
	if len(args) == 5 {
		var ok bool
		if toMeter, ok = geoUnitArg(c, args[4]); !ok {
			return
		}
	} else if len(args) > 5 {
		c.ReplyError(ErrSyntax)
		return
	}
	_, z, ok := zsetLookup(c, args[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.ReplyNull()
		return
	}
	s1, ok1 := z.Score(args[2])
	s2, ok2 := z.Score(args[3])
	if !ok1 || !ok2 {
		c.ReplyNull()
		return
	}
	lon1, lat1, ok1 := zset.GeoDecode(s1)
	lon2, lat2, ok2 := zset.GeoDecode(s2)
	if !ok1 || !ok2 {
		c.ReplyNull()
		return
	}
	c.ReplyBulk(zset.FormatGeoDistance(nil, zset.GeoDistanceExact(lon1, lat1, lon2, lat2)/toMeter))
}

func cmdGeoHash(c *Client, args [][]byte) {
	_, z, ok := zsetLookup(c, args[1], false)
	if !ok {
		return
	}
	c.ReplyArray(len(args) - 2)
	var buf []byte
	for _, m := range args[2:] {
		var score float64
		found := false
		if z != nil {
			score, found = z.Score(m)
		}
		if !found {
			c.ReplyNull()
			continue
		}
		var ok bool
		if buf, ok = zset.GeoHashString(buf[:0], score); !ok {
			c.ReplyNull()
			continue
		}
		c.ReplyBulk(buf)
	}
}

// geoPoint is a search result.
type geoPoint struct {
	member   string
	score    float64
	lon, lat float64
	dist     float64
}

// geoSearchGeneric is GEORADIUS, GEORADIUSBYMEMBER, their _RO forms,
// GEOSEARCH and GEOSEARCHSTORE (Redis's georadiusGeneric).
func geoSearchGeneric(c *Client, args [][]byte, srcIdx, flags int, st *zsetState) {
	var storeKey []byte
	storeDist := false
	_, z, ok := zsetLookup(c, args[srcIdx], false)
	if !ok {
		return
	}
	var shape zset.GeoShape
	var base int
	switch {
	case flags&geoRadiusCoords != 0:
		base = 6
		if shape.Lon, shape.Lat, ok = geoLonLatArg(c, args[2:4]); !ok {
			return
		}
		if !geoDistanceArgs(c, args[base-2:], &shape) {
			return
		}
	case flags&geoRadiusMember != 0 && z == nil:
		// No source: parse the options anyway, to know which reply to
		// give.
		base = 5
	case flags&geoRadiusMember != 0:
		base = 5
		if !geoMemberPos(c, z, args[2], &shape) {
			return
		}
		if !geoDistanceArgs(c, args[base-2:], &shape) {
			return
		}
	default: // geoSearch
		base = 2
		if flags&geoSearchStore != 0 {
			base = 3
			storeKey = args[1]
		}
	}
	withDist, withHash, withCoord := false, false, false
	fromMember, fromLoc, byRadius, byBox := false, false, false, false
	sortDir := 0 // 1 ASC, 2 DESC
	anyOpt := false
	var count int64
	remaining := len(args) - base
	for i := 0; i < remaining; i++ {
		a := args[base+i]
		switch {
		case EqualFold(a, "withdist"):
			withDist = true
		case EqualFold(a, "withhash"):
			withHash = true
		case EqualFold(a, "withcoord"):
			withCoord = true
		case EqualFold(a, "any"):
			anyOpt = true
		case EqualFold(a, "asc"):
			sortDir = 1
		case EqualFold(a, "desc"):
			sortDir = 2
		case EqualFold(a, "count") && i+1 < remaining:
			v, ok := zsetLongArg(c, args[base+i+1], "")
			if !ok {
				return
			}
			if v <= 0 {
				c.ReplyError("ERR COUNT must be > 0")
				return
			}
			count = v
			i++
		case EqualFold(a, "store") && i+1 < remaining && flags&(geoNoStore|geoSearch) == 0:
			storeKey = args[base+i+1]
			storeDist = false
			i++
		case EqualFold(a, "storedist") && i+1 < remaining && flags&(geoNoStore|geoSearch) == 0:
			storeKey = args[base+i+1]
			storeDist = true
			i++
		case EqualFold(a, "storedist") && flags&geoSearch != 0 && flags&geoSearchStore != 0:
			storeDist = true
		case EqualFold(a, "frommember") && i+1 < remaining && flags&geoSearch != 0 && !fromLoc:
			if z != nil && !geoMemberPos(c, z, args[base+i+1], &shape) {
				return
			}
			fromMember = true
			i++
		case EqualFold(a, "fromlonlat") && i+2 < remaining && flags&geoSearch != 0 && !fromMember:
			if shape.Lon, shape.Lat, ok = geoLonLatArg(c, args[base+i+1:base+i+3]); !ok {
				return
			}
			fromLoc = true
			i += 2
		case EqualFold(a, "byradius") && i+2 < remaining && flags&geoSearch != 0 && !byBox:
			if !geoDistanceArgs(c, args[base+i+1:], &shape) {
				return
			}
			shape.Box = false
			byRadius = true
			i += 2
		case EqualFold(a, "bybox") && i+3 < remaining && flags&geoSearch != 0 && !byRadius:
			if !geoBoxArgs(c, args[base+i+1:], &shape) {
				return
			}
			shape.Box = true
			byBox = true
			i += 3
		default:
			c.ReplyError(ErrSyntax)
			return
		}
	}
	if storeKey != nil && (withDist || withHash || withCoord) {
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		c.ReplyError("ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
		return
	}
	if flags&geoSearch != 0 && !(fromMember || fromLoc) {
		c.ReplyError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + string(args[0]))
		return
	}
	if flags&geoSearch != 0 && !(byRadius || byBox) {
		c.ReplyError("ERR exactly one of BYRADIUS and BYBOX can be specified for " + string(args[0]))
		return
	}
	if anyOpt && count == 0 {
		c.ReplyError("ERR the ANY argument requires COUNT argument")
		return
	}
	if storeKey == nil && flags&(geoNoStore|geoSearch) == 0 {
		c.Unchanged() // GEORADIUS without STORE: a write command that writes nothing
	}
	if z == nil {
		if storeKey != nil {
			if c.DB().Delete(storeKey, c.Now()) {
				c.Notify(store.ClassGeneric, "del", storeKey)
			} else {
				c.Unchanged()
			}
			c.ReplyInt(0)
		} else {
			c.ReplyArray(0)
		}
		return
	}
	if count != 0 && sortDir == 0 && !anyOpt {
		sortDir = 1
	}
	var limit int
	if anyOpt {
		limit = int(min(count, math.MaxInt32))
	}
	points := geoCollect(z, &shape, limit)
	if len(points) == 0 && storeKey == nil {
		c.ReplyArray(0)
		return
	}
	if withDist || storeDist || sortDir != 0 {
		// The distances reported, stored or sorted on are Redis's to the
		// last bit (the search filtered with faster, less exact math).
		for i := range points {
			gp := &points[i]
			gp.dist = zset.GeoDistanceExact(shape.Lon, shape.Lat, gp.lon, gp.lat)
		}
	}
	returned := len(points)
	if count != 0 && int64(returned) > count {
		returned = int(count)
	}
	switch sortDir {
	case 1:
		sort.SliceStable(points, func(i, j int) bool { return points[i].dist < points[j].dist })
	case 2:
		sort.SliceStable(points, func(i, j int) bool { return points[i].dist > points[j].dist })
	}
	points = points[:returned]
	if storeKey == nil {
		opts := 0
		for _, b := range []bool{withDist, withCoord, withHash} {
			if b {
				opts++
			}
		}
		c.ReplyArray(returned)
		var buf []byte
		for i := range points {
			gp := &points[i]
			gp.dist /= shape.Conversion
			if opts > 0 {
				c.ReplyArray(opts + 1)
			}
			c.ReplyBulkString(gp.member)
			if withDist {
				buf = zset.FormatGeoDistance(buf[:0], gp.dist)
				c.ReplyBulk(buf)
			}
			if withHash {
				c.ReplyInt(int64(gp.score))
			}
			if withCoord {
				c.ReplyArray(2)
				buf = geoReplyCoord(c, buf, gp.lon)
				buf = geoReplyCoord(c, buf, gp.lat)
			}
		}
		return
	}
	entries := make([]zset.Entry, 0, returned)
	maxLen, totLen := 0, 0
	for i := range points {
		gp := &points[i]
		gp.dist /= shape.Conversion
		score := gp.score
		if storeDist {
			score = gp.dist
		}
		entries = append(entries, zset.Entry{Member: gp.member, Score: score})
		maxLen = max(maxLen, len(gp.member))
		totLen += len(gp.member)
	}
	var out *zset.ZSet
	if len(entries) > 0 {
		zset.SortEntries(entries)
		out = zset.FromSorted(entries, st.limits().Fits(len(entries), maxLen, totLen))
	}
	event := "georadiusstore"
	if flags&geoSearch != 0 {
		event = "geosearchstore"
	}
	c.ReplyInt(int64(zsetStore(c, storeKey, out, event)))
}

// geoMemberPos sets the shape's center to a member's position.
func geoMemberPos(c *Client, z *zset.ZSet, m []byte, shape *zset.GeoShape) bool {
	score, found := z.Score(m)
	if found {
		var ok bool
		if shape.Lon, shape.Lat, ok = zset.GeoDecode(score); ok {
			return true
		}
	}
	c.ReplyError("ERR could not decode requested zset member")
	return false
}

// geoDistanceArgs parses "<radius> <unit>".
func geoDistanceArgs(c *Client, args [][]byte, shape *zset.GeoShape) bool {
	r, ok := zsetFloatArg(c, args[0], "ERR need numeric radius")
	if !ok {
		return false
	}
	if r < 0 {
		c.ReplyError("ERR radius cannot be negative")
		return false
	}
	shape.Radius = r
	conv, ok := geoUnitArg(c, args[1])
	if !ok {
		return false
	}
	shape.Conversion = conv
	return true
}

// geoBoxArgs parses "<width> <height> <unit>".
func geoBoxArgs(c *Client, args [][]byte, shape *zset.GeoShape) bool {
	w, ok := zsetFloatArg(c, args[0], "ERR need numeric width")
	if !ok {
		return false
	}
	h, ok := zsetFloatArg(c, args[1], "ERR need numeric height")
	if !ok {
		return false
	}
	if h < 0 || w < 0 {
		c.ReplyError("ERR height or width cannot be negative")
		return false
	}
	shape.Width, shape.Height = w, h
	conv, ok := geoUnitArg(c, args[2])
	if !ok {
		return false
	}
	shape.Conversion = conv
	return true
}

// geoCollect finds the members in the shape, box by box as Redis does,
// stopping at limit results when limit > 0 (ANY).
func geoCollect(z *zset.ZSet, shape *zset.GeoShape, limit int) []geoPoint {
	boxes := shape.Boxes()
	var points []geoPoint
	last := 0
	for i, h := range boxes {
		if h.IsZero() {
			continue
		}
		// Large radii make neighbours repeat: skip a box equal to the
		// previous one scanned (Redis never compares with the center).
		if last != 0 && h == boxes[last] {
			continue
		}
		if len(points) > 0 && limit > 0 && len(points) >= limit {
			break
		}
		lo, hi := zset.BoxScores(h)
		r := zset.ScoreRange{Min: lo, Max: hi, MaxEx: true}
		for p := z.FirstInRange(&r); p.Valid() && r.LteMax(p.Score()); p = p.Next() {
			if lon, lat, dist, ok := shape.Within(p.Score()); ok {
				points = append(points, geoPoint{member: strings.Clone(p.Member()), score: p.Score(), lon: lon, lat: lat, dist: dist})
			}
			if len(points) > 0 && limit > 0 && len(points) >= limit {
				break
			}
		}
		last = i
	}
	return points
}
