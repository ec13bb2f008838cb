package cached

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/cached/zset"
	"github.com/anvilstack/anvil/pkg/resp"
)

// ZUNION/ZINTER/ZDIFF and their STORE forms, ZINTERCARD, ZPOPMIN/ZPOPMAX,
// ZMPOP and the blocking pops, ZRANDMEMBER, ZSCAN.

type zsetOp uint8

const (
	zsetUnion zsetOp = iota
	zsetInter
	zsetDiff
)

type zsetAggregate uint8

const (
	zsetAggSum zsetAggregate = iota
	zsetAggMin
	zsetAggMax
)

// zsetSetInput is what the set operations need of a plain set value (the
// set family's type): a set's members count with score 1.
type zsetSetInput interface {
	Len() int
	Has(m []byte) bool
	AppendMember(dst []byte, i int) []byte
}

// zsetSrc is one input of a set operation: a sorted set, a set, or
// nothing (a missing key).
type zsetSrc struct {
	z      *zset.ZSet
	set    zsetSetInput
	obj    store.Object // identity: the same key given twice
	weight float64
}

func (s *zsetSrc) len() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.set != nil:
		return s.set.Len()
	}
	return 0
}

// find is the member's score in the input (1 in a set).
func (s *zsetSrc) find(m string) (float64, bool) {
	b := zsetBytes(m)
	switch {
	case s.z != nil:
		return s.z.Score(b)
	case s.set != nil:
		if s.set.Has(b) {
			return 1, true
		}
	}
	return 0, false
}

// each calls fn for every member; the member string may belong to the
// input (clone it to keep it).
func (s *zsetSrc) each(fn func(m string, score float64) bool) {
	switch {
	case s.z != nil:
		s.z.ForEach(fn)
	case s.set != nil:
		var buf []byte
		for i := 0; i < s.set.Len(); i++ {
			buf = s.set.AppendMember(buf[:0], i)
			if !fn(string(buf), 1) {
				return
			}
		}
	}
}

// zsetBytes views s as bytes without copying, for lookups only.
func zsetBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func zsetAggregateInto(target *float64, v float64, agg zsetAggregate) {
	switch agg {
	case zsetAggSum:
		*target += v
		// inf + -inf: Redis keeps the convention that the sum is 0.
		if math.IsNaN(*target) {
			*target = 0
		}
	case zsetAggMin:
		if v < *target {
			*target = v
		}
	case zsetAggMax:
		if v > *target {
			*target = v
		}
	}
}

// zsetOpGeneric is ZUNION, ZINTER, ZDIFF, their STORE forms (dst set) and
// ZINTERCARD (cardOnly), with numkeys at numIdx.
func zsetOpGeneric(c *Client, args [][]byte, dst []byte, numIdx int, op zsetOp, cardOnly bool, st *zsetState) {
	setnum, ok := zsetLongArg(c, args[numIdx], "")
	if !ok {
		return
	}
	if setnum < 1 {
		c.ReplyError("ERR at least 1 input key is needed for '" + c.cmd.fullName + "' command")
		return
	}
	if setnum > int64(len(args)-(numIdx+1)) {
		c.ReplyError(ErrSyntax)
		return
	}
	n := int(setnum)
	srcs := make([]zsetSrc, n)
	j := numIdx + 1
	for i := 0; i < n; i, j = i+1, j+1 {
		srcs[i].weight = 1
		e := c.Lookup(args[j])
		if e == nil {
			continue
		}
		switch e.Kind() {
		case store.KindZSet:
			srcs[i].z = e.Obj.(*zset.ZSet)
		case store.KindSet:
			set, ok := e.Obj.(zsetSetInput)
			if !ok {
				c.ReplyError(ErrWrongType)
				return
			}
			srcs[i].set = set
		default:
			c.ReplyError(ErrWrongType)
			return
		}
		srcs[i].obj = e.Obj
	}
	agg := zsetAggSum
	withScores := false
	var limit int64
	for j < len(args) {
		remaining := len(args) - j
		a := args[j]
		switch {
		case op != zsetDiff && !cardOnly && remaining >= n+1 && EqualFold(a, "weights"):
			j++
			for i := 0; i < n; i, j = i+1, j+1 {
				w, ok := zsetFloatArg(c, args[j], errZsetWeight)
				if !ok {
					return
				}
				srcs[i].weight = w
			}
		case op != zsetDiff && !cardOnly && remaining >= 2 && EqualFold(a, "aggregate"):
			switch v := args[j+1]; {
			case EqualFold(v, "sum"):
				agg = zsetAggSum
			case EqualFold(v, "min"):
				agg = zsetAggMin
			case EqualFold(v, "max"):
				agg = zsetAggMax
			default:
				c.ReplyError(ErrSyntax)
				return
			}
			j += 2
		case dst == nil && !cardOnly && EqualFold(a, "withscores"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && EqualFold(a, "limit"):
			v, ok := ParseInt(args[j+1])
			if !ok || v < 0 {
				c.ReplyError(errZsetLimitNeg)
				return
			}
			limit = v
			j += 2
		default:
			c.ReplyError(ErrSyntax)
			return
		}
	}
	if op != zsetDiff {
		// Smallest first, as Redis orders them (a stable sort, like
		// glibc's qsort here: the order of the additions is Redis's).
		sort.SliceStable(srcs, func(a, b int) bool { return srcs[a].len() < srcs[b].len() })
	}

	var result []zset.Entry
	maxLen, totLen := 0, 0
	keep := func(m string, score float64) {
		m = strings.Clone(m)
		result = append(result, zset.Entry{Member: m, Score: score})
		maxLen = max(maxLen, len(m))
		totLen += len(m)
	}
	card := int64(0)
	switch op {
	case zsetInter:
		if srcs[0].len() == 0 {
			break
		}
		srcs[0].each(func(m string, s float64) bool {
			score := srcs[0].weight * s
			if math.IsNaN(score) {
				score = 0
			}
			for k := 1; k < n; k++ {
				if srcs[k].obj == srcs[0].obj {
					zsetAggregateInto(&score, s*srcs[k].weight, agg)
				} else if v, found := srcs[k].find(m); found {
					zsetAggregateInto(&score, v*srcs[k].weight, agg)
				} else {
					return true
				}
			}
			if cardOnly {
				card++
				return limit == 0 || card < limit
			}
			keep(m, score)
			return true
		})
	case zsetUnion:
		acc := map[string]int{} // member -> index in result
		for i := range srcs {
			if srcs[i].len() == 0 {
				continue
			}
			srcs[i].each(func(m string, s float64) bool {
				score := srcs[i].weight * s
				if math.IsNaN(score) {
					score = 0
				}
				if k, found := acc[m]; found {
					zsetAggregateInto(&result[k].Score, score, agg)
					return true
				}
				keep(m, score)
				acc[result[len(result)-1].Member] = len(result) - 1
				return true
			})
		}
		zset.SortEntries(result)
	case zsetDiff:
		if srcs[0].len() == 0 {
			break
		}
		for k := 1; k < n; k++ {
			if srcs[k].obj == srcs[0].obj {
				goto diffDone
			}
		}
		srcs[0].each(func(m string, s float64) bool {
			for k := 1; k < n; k++ {
				if _, found := srcs[k].find(m); found {
					return true
				}
			}
			keep(m, s)
			return true
		})
	diffDone:
	}
	if op != zsetUnion {
		// Aggregated scores (and a set's members) are not in order yet.
		zset.SortEntries(result)
	}
	switch {
	case dst != nil:
		var z *zset.ZSet
		if len(result) > 0 {
			z = zset.FromSorted(result, st.limits().Fits(len(result), maxLen, totLen))
		}
		event := [...]string{zsetUnion: "zunionstore", zsetInter: "zinterstore", zsetDiff: "zdiffstore"}[op]
		c.ReplyInt(int64(zsetStore(c, dst, z, event)))
	case cardOnly:
		c.ReplyInt(card)
	default:
		proto := c.Proto()
		if withScores && proto == resp.Proto2 {
			c.ReplyArray(2 * len(result))
		} else {
			c.ReplyArray(len(result))
		}
		for _, e := range result {
			if withScores && proto == resp.Proto3 {
				c.ReplyArray(2)
			}
			c.ReplyBulkString(e.Member)
			if withScores {
				zsetReplyScore(c, e.Score)
			}
		}
	}
}

// zpopGeneric pops from the first non-empty set of keys (Redis's
// genericZpopCommand): count -1 is a plain single pop; emitKey puts the
// key in the reply (BZPOP*, ZMPOP); nested nests the pairs (RESP3 with a
// count, ZMPOP); nilWhenEmpty replies a null array instead of an empty
// one when there is nothing.
func zpopGeneric(c *Client, keys [][]byte, max, emitKey bool, count int64, nested, nilWhenEmpty bool) {
	var e *store.Entry
	var z *zset.ZSet
	var key []byte
	for _, k := range keys {
		var ok bool
		e, z, ok = zsetLookup(c, k, true)
		if !ok {
			return
		}
		if z != nil {
			key = k
			break
		}
	}
	if z == nil {
		c.Unchanged()
		if nilWhenEmpty {
			c.ReplyNullArray()
		} else {
			c.ReplyArray(0)
		}
		return
	}
	if count == 0 {
		c.Unchanged()
		c.ReplyArray(0)
		return
	}
	if count == -1 {
		count = 1
	}
	n := int(min(count, int64(z.Len())))
	switch {
	case !nested && !emitKey:
		c.ReplyArray(2 * n)
	case nested && !emitKey:
		c.ReplyArray(n)
	case !nested && emitKey:
		c.ReplyArray(2*n + 1)
		c.ReplyBulk(key)
	default:
		c.ReplyArray(2)
		c.ReplyBulk(key)
		c.ReplyArray(n)
	}
	for i := 0; i < n; i++ {
		m, s := z.Pop(max)
		if i == 0 {
			if max {
				c.Notify(store.ClassZSet, "zpopmax", key)
			} else {
				c.Notify(store.ClassZSet, "zpopmin", key)
			}
		}
		if nested {
			c.ReplyArray(2)
		}
		c.ReplyBulkString(m)
		zsetReplyScore(c, s)
	}
	if z.Len() == 0 {
		c.DB().Unlink(e)
		c.Notify(store.ClassGeneric, "del", key)
	} else {
		c.DB().Updated(e)
	}
}

func zpopMinMax(c *Client, args [][]byte, max bool) {
	if len(args) > 3 {
		c.ReplyError(ErrSyntax)
		return
	}
	count := int64(-1)
	if len(args) == 3 {
		v, ok := ParseInt(args[2])
		if !ok || v < 0 {
			c.ReplyError(errZsetPositive)
			return
		}
		count = v
	}
	zpopGeneric(c, args[1:2], max, false, count, c.Proto() == resp.Proto3 && count != -1, false)
}

// zsetTimeoutArg parses a blocking timeout in seconds as Redis's
// getTimeoutFromObjectOrReply does (a long double, rounded up to ms).
func zsetTimeoutArg(c *Client, b []byte) (time.Duration, bool) {
	f, n, erange := zset.Strtod(b)
	if len(b) == 0 || n != len(b) || isSpaceByte(b[0]) || math.IsNaN(f) {
		c.ReplyError(errZsetTimeout)
		return 0, false
	}
	if erange && f == 0 {
		// Below a double's range but not a long double's: a tiny
		// positive (or negative) number of seconds.
		f = math.Copysign(math.SmallestNonzeroFloat64, f)
	}
	ms := math.Ceil(f * 1000)
	// Out of a long long's range the C conversion yields LLONG_MIN: the
	// timeout is then "negative".
	if math.IsInf(ms, 0) || ms >= math.MaxInt64 || ms < math.MinInt64 || ms < 0 {
		c.ReplyError(errZsetTimeoutNeg)
		return 0, false
	}
	if ms > float64(math.MaxInt64/int64(time.Millisecond)) {
		return 0, true // beyond what a Duration holds: as good as forever
	}
	return time.Duration(ms) * time.Millisecond, true
}

// bzpopMinMax is BZPOPMIN and BZPOPMAX.
func bzpopMinMax(c *Client, args [][]byte, max bool) {
	timeout, ok := zsetTimeoutArg(c, args[len(args)-1])
	if !ok {
		return
	}
	zsetBlockingPop(c, args[1:len(args)-1], max, timeout, -1, false, false)
}

// zsetBlockingPop pops from the first non-empty set of keys, or blocks.
// Like Redis, a client woken by a signal ignores keys that now hold
// another type (it keeps waiting) where its first run replies WRONGTYPE.
func zsetBlockingPop(c *Client, keys [][]byte, max bool, timeout time.Duration, count int64, nested, nilWhenEmpty bool) {
	woken := c.blockActive != nil
	for _, k := range c.servingOrder(keys) {
		e := c.LookupWrite(k)
		if e == nil {
			continue
		}
		if e.Kind() != store.KindZSet {
			if woken {
				continue
			}
			c.ReplyError(ErrWrongType)
			return
		}
		if e.Obj.(*zset.ZSet).Len() == 0 {
			continue
		}
		zpopGeneric(c, [][]byte{k}, max, true, count, nested, nilWhenEmpty)
		return
	}
	if c.InExec() {
		c.Unchanged()
		c.ReplyNullArray()
		return
	}
	c.Block(zsetUniqueKeys(keys), timeout, func() {
		c.Unchanged()
		c.ReplyNullArray()
	})
}

// zsetUniqueKeys drops repeated keys (BZPOPMIN k k waits once on k).
func zsetUniqueKeys(keys [][]byte) [][]byte {
	out := make([][]byte, 0, len(keys))
outer:
	for _, k := range keys {
		for _, o := range out {
			if string(k) == string(o) {
				continue outer
			}
		}
		out = append(out, k)
	}
	return out
}

// zmpopGeneric is ZMPOP and BZMPOP (block, with the timeout before
// numkeys).
func zmpopGeneric(c *Client, args [][]byte, numIdx int, block bool) {
	numkeys, ok := ParseInt(args[numIdx])
	if !ok || numkeys < 1 {
		c.ReplyError(errZsetNumkeys)
		return
	}
	if numkeys >= int64(len(args)) {
		c.ReplyError(ErrSyntax)
		return
	}
	whereIdx := numIdx + int(numkeys) + 1
	if whereIdx >= len(args) {
		c.ReplyError(ErrSyntax)
		return
	}
	var max bool
	switch w := args[whereIdx]; {
	case EqualFold(w, "min"):
	case EqualFold(w, "max"):
		max = true
	default:
		c.ReplyError(ErrSyntax)
		return
	}
	count := int64(-1)
	for j := whereIdx + 1; j < len(args); j++ {
		more := len(args) - 1 - j
		if count == -1 && EqualFold(args[j], "count") && more > 0 {
			j++
			v, ok := ParseInt(args[j])
			if !ok || v < 1 {
				c.ReplyError(errZsetCount)
				return
			}
			count = v
		} else {
			c.ReplyError(ErrSyntax)
			return
		}
	}
	if count == -1 {
		count = 1
	}
	keys := args[numIdx+1 : whereIdx]
	if block {
		timeout, ok := zsetTimeoutArg(c, args[1])
		if !ok {
			return
		}
		zsetBlockingPop(c, keys, max, timeout, count, true, true)
		return
	}
	zpopGeneric(c, keys, max, true, count, true, true)
}

func cmdZRandMember(c *Client, args [][]byte) {
	if len(args) >= 3 {
		l, ok := ParseInt(args[2])
		if !ok {
			c.ReplyError(ErrNotInt)
			return
		}
		if l == math.MinInt64 {
			c.ReplyError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
			return
		}
		withScores := false
		if len(args) > 4 || (len(args) == 4 && !EqualFold(args[3], "withscores")) {
			c.ReplyError(ErrSyntax)
			return
		} else if len(args) == 4 {
			withScores = true
			if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
				c.ReplyError(errZsetOutOfRange)
				return
			}
		}
		zrandMemberCount(c, args[1], l, withScores)
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
	m, _ := z.Random()
	c.ReplyBulkString(m)
}

func zrandMemberCount(c *Client, key []byte, l int64, withScores bool) {
	_, z, ok := zsetLookup(c, key, false)
	if !ok {
		return
	}
	if z == nil {
		c.ReplyArray(0)
		return
	}
	size := z.Len()
	uniq := l >= 0
	count := uint64(l)
	if !uniq {
		count = uint64(-l)
	}
	if count == 0 {
		c.ReplyArray(0)
		return
	}
	proto := c.Proto()
	header := func(n int) {
		if withScores && proto == resp.Proto2 {
			c.ReplyArray(2 * n)
		} else {
			c.ReplyArray(n)
		}
	}
	elem := func(m string, s float64) {
		if withScores && proto == resp.Proto3 {
			c.ReplyArray(2)
		}
		c.ReplyBulkString(m)
		if withScores {
			zsetReplyScore(c, s)
		}
	}
	// Case 1: repetitions allowed (or a single member): random picks.
	if !uniq || count == 1 {
		if !checkRandomCount(c, l) {
			return
		}
		header(int(count))
		if !z.IsListpack() {
			for ; count > 0; count-- {
				elem(z.Random())
			}
			return
		}
		// A listpack is walked, not indexed: as Redis does, draw up to
		// 1000 positions at a time, fetch them in one pass, and reply
		// them in the order drawn.
		var picks []zsetPick
		for count > 0 {
			k := int(min(count, 1000))
			count -= uint64(k)
			picks = picks[:0]
			for i := 0; i < k; i++ {
				picks = append(picks, zsetPick{rank: rand.IntN(size), order: i})
			}
			zsetFetchPicks(z, picks)
			for _, p := range picks {
				elem(p.member, p.score)
			}
		}
		return
	}
	// Case 2: all of it.
	if count >= uint64(size) {
		header(size)
		z.ForEach(func(m string, s float64) bool { elem(m, s); return true })
		return
	}
	n := int(count)
	header(n)
	// Case 3: most of it: drop random members from a copy.
	if n*3 > size {
		all := make([]zset.Entry, 0, size)
		z.ForEach(func(m string, s float64) bool { all = append(all, zset.Entry{Member: m, Score: s}); return true })
		for len(all) > n {
			i := rand.IntN(len(all))
			all[i] = all[len(all)-1]
			all = all[:len(all)-1]
		}
		for _, e := range all {
			elem(e.Member, e.Score)
		}
		return
	}
	// Case 4: a few out of many.
	if z.IsListpack() {
		// Redis picks distinct positions and replies them in order.
		picks := make([]zsetPick, n)
		for i, r := range rand.Perm(size)[:n] {
			picks[i] = zsetPick{rank: r}
		}
		zsetFetchPicks(z, picks)
		sort.Slice(picks, func(i, j int) bool { return picks[i].rank < picks[j].rank })
		for _, p := range picks {
			elem(p.member, p.score)
		}
		return
	}
	seen := make(map[string]struct{}, n)
	for len(seen) < n {
		m, s := z.Random()
		if _, dup := seen[m]; dup {
			continue
		}
		seen[m] = struct{}{}
		elem(m, s)
	}
}

func cmdZScan(c *Client, args [][]byte) {
	e, cursor, opt, ok := scanStart(c, args, store.KindZSet)
	if !ok {
		return
	}
	z := e.Obj.(*zset.ZSet)
	body := c.Scratch()
	n := 0
	listpack := z.IsListpack()
	var num []byte
	next := z.Scan(cursor, opt.Count, func(m string, s float64) {
		if opt.Match != nil && !GlobMatch(opt.Match, zsetBytes(m), false) {
			return
		}
		body = resp.AppendBulkString(body, m)
		if listpack {
			num = zsetFormatListpackScore(num[:0], s)
		} else {
			num = zsetFormatScore(num[:0], s)
		}
		body = resp.AppendBulk(body, num)
		n += 2
	})
	replyScan(c, next, n, body)
}

// zsetFormatListpackScore formats a score as a listpack stores it (Redis's
// d2string): integers in plain digits, other values as %.17g.
func zsetFormatListpackScore(b []byte, f float64) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	}
	if !math.IsInf(f, 0) && f >= -math.MaxInt64/2 && f <= math.MaxInt64/2 && f == math.Trunc(f) {
		return strconv.AppendInt(b, int64(f), 10)
	}
	return zsetFormatScore(b, f)
}

// zsetPick is a random position of ZRANDMEMBER and what is there.
type zsetPick struct {
	rank, order int
	member      string // a view into the set, valid during the command
	score       float64
}

// zsetFetchPicks fills picks in one walk of the set (in the order of
// their ranks), then restores the order they were drawn in.
func zsetFetchPicks(z *zset.ZSet, picks []zsetPick) {
	sort.Slice(picks, func(i, j int) bool { return picks[i].rank < picks[j].rank })
	p, at := z.ByRank(0), 0
	for i := range picks {
		for ; at < picks[i].rank; at++ {
			p = p.Next()
		}
		picks[i].member, picks[i].score = p.Member(), p.Score()
	}
	sort.Slice(picks, func(i, j int) bool { return picks[i].order < picks[j].order })
}
