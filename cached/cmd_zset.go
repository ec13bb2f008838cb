package cached

import (
	"math"
	"strconv"
	"sync/atomic"

	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/cached/zset"
	"github.com/anvilstack/anvil/pkg/resp"
)

// The sorted-set family: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK
// ZREVRANK ZCOUNT ZLEXCOUNT, the ZRANGE family and ZRANGESTORE, the
// ZREMRANGEBY* commands (cmd_zset_range.go), ZUNION/ZINTER/ZDIFF and their
// STORE forms, ZINTERCARD, the pops and their blocking forms, ZRANDMEMBER
// and ZSCAN (cmd_zset_ops.go). The values are zset.ZSet; the encoding
// thresholds are CONFIG parameters kept in zsetState. The geo commands
// (cmd_geo.go) are built on the same values.

// zsetState is the family's server-wide state: the encoding thresholds
// CONFIG SET changes while commands read them.
type zsetState struct {
	maxEntries atomic.Int64 // zset-max-listpack-entries
	maxValue   atomic.Int64 // zset-max-listpack-value
}

type zsetStateKey struct{}

func (s *Server) zsetState() *zsetState {
	if st, ok := s.Family(zsetStateKey{}).(*zsetState); ok {
		return st
	}
	st := &zsetState{}
	st.maxEntries.Store(zset.DefaultLimits.MaxListpackEntries)
	st.maxValue.Store(zset.DefaultLimits.MaxListpackValue)
	s.SetFamily(zsetStateKey{}, st)
	// A loaded set takes the encoding the thresholds give it at load time,
	// as Redis's RDB loading does.
	s.RegisterSnapshotDecoder(store.KindZSet, func(data []byte) (store.Object, error) {
		return zset.DecodeSnapshot(data, st.limits())
	})
	return st
}

func (st *zsetState) limits() zset.Limits {
	return zset.Limits{MaxListpackEntries: st.maxEntries.Load(), MaxListpackValue: st.maxValue.Load()}
}

// zsetParams are the family's CONFIG parameters.
func (s *Server) zsetParams() []*Param {
	st := s.zsetState()
	entries := IntParam("zset-max-listpack-entries", 0, math.MaxInt64, st.maxEntries.Load, st.maxEntries.Store)
	entries.Alias = "zset-max-ziplist-entries"
	value := MemoryParam("zset-max-listpack-value", 0, math.MaxInt64, st.maxValue.Load, st.maxValue.Store)
	value.Alias = "zset-max-ziplist-value"
	return []*Param{entries, value}
}

// zsetKeysAfter returns a Keys function for a command whose keys follow a
// numkeys argument at numIdx, plus the fixed key positions extra.
func zsetKeysAfter(numIdx int, extra ...int) func(args [][]byte) []int {
	return func(args [][]byte) []int {
		if numIdx >= len(args) {
			return nil
		}
		n, ok := ParseInt(args[numIdx])
		if !ok || n < 1 || n > int64(len(args)-numIdx-1) {
			return nil // the handler replies the error; COMMAND GETKEYS too
		}
		pos := append([]int(nil), extra...)
		for i := 0; i < int(n); i++ {
			pos = append(pos, numIdx+1+i)
		}
		return pos
	}
}

func (s *Server) zsetCommands() []*Command {
	st := s.zsetState()
	const (
		rd   = FlagReadOnly
		rdF  = FlagReadOnly | FlagFast
		wr   = FlagWrite
		wrF  = FlagWrite | FlagFast
		wrD  = FlagWrite | FlagDenyOOM
		wrDF = FlagWrite | FlagDenyOOM | FlagFast
	)
	rangeCmd := func(rt zrangeType, dir zrangeDir) Handler {
		return func(c *Client, args [][]byte) { zrangeGeneric(c, args, 1, false, rt, dir, st) }
	}
	return []*Command{
		{Name: "zadd", KeySpecs: []string{"RW update"}, Arity: -4, Flags: wrDF, First: 1, Last: 1, Step: 1,
			Handler: func(c *Client, args [][]byte) { zaddGeneric(c, args, 0, st) },
			Group:   "sorted_set", Since: "1.2.0", Summary: "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", Complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set."},
		{Name: "zincrby", KeySpecs: []string{"RW access update"}, Arity: 4, Flags: wrDF, First: 1, Last: 1, Step: 1,
			Handler: func(c *Client, args [][]byte) { zaddGeneric(c, args, zset.AddIncr, st) },
			Group:   "sorted_set", Since: "1.2.0", Summary: "Increments the score of a member in a sorted set.", Complexity: "O(log(N)) where N is the number of elements in the sorted set."},
		{Name: "zrem", KeySpecs: []string{"RW delete"}, Arity: -3, Flags: wrF, First: 1, Last: 1, Step: 1, Handler: cmdZRem,
			Group: "sorted_set", Since: "1.2.0", Summary: "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", Complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed."},
		{Name: "zcard", KeySpecs: []string{"RO"}, Arity: 2, Flags: rdF, First: 1, Last: 1, Step: 1, Handler: cmdZCard,
			Group: "sorted_set", Since: "1.2.0", Summary: "Returns the number of members in a sorted set.", Complexity: "O(1)"},
		{Name: "zscore", KeySpecs: []string{"RO access"}, Arity: 3, Flags: rdF, First: 1, Last: 1, Step: 1, Handler: cmdZScore,
			Group: "sorted_set", Since: "1.2.0", Summary: "Returns the score of a member in a sorted set.", Complexity: "O(1)"},
		{Name: "zmscore", KeySpecs: []string{"RO access"}, Arity: -3, Flags: rdF, First: 1, Last: 1, Step: 1, Handler: cmdZMScore,
			Group: "sorted_set", Since: "6.2.0", Summary: "Returns the score of one or more members in a sorted set.", Complexity: "O(N) where N is the number of members being requested."},
		{Name: "zrank", KeySpecs: []string{"RO access"}, Arity: 3, Flags: rdF, First: 1, Last: 1, Step: 1,
			Handler: func(c *Client, args [][]byte) { zrankGeneric(c, args, false) },
			Group:   "sorted_set", Since: "2.0.0", Summary: "Returns the index of a member in a sorted set ordered by ascending scores.", Complexity: "O(log(N))"},
		{Name: "zrevrank", KeySpecs: []string{"RO access"}, Arity: 3, Flags: rdF, First: 1, Last: 1, Step: 1,
			Handler: func(c *Client, args [][]byte) { zrankGeneric(c, args, true) },
			Group:   "sorted_set", Since: "2.0.0", Summary: "Returns the index of a member in a sorted set ordered by descending scores.", Complexity: "O(log(N))"},
		{Name: "zcount", KeySpecs: []string{"RO access"}, Arity: 4, Flags: rdF, First: 1, Last: 1, Step: 1, Handler: cmdZCount,
			Group: "sorted_set", Since: "2.0.0", Summary: "Returns the count of members in a sorted set that have scores within a range.", Complexity: "O(log(N)) with N being the number of elements in the sorted set."},
		{Name: "zlexcount", KeySpecs: []string{"RO access"}, Arity: 4, Flags: rdF, First: 1, Last: 1, Step: 1, Handler: cmdZLexCount,
			Group: "sorted_set", Since: "2.8.9", Summary: "Returns the number of members in a sorted set within a lexicographical range.", Complexity: "O(log(N)) with N being the number of elements in the sorted set."},
		{Name: "zrange", KeySpecs: []string{"RO access"}, Arity: -4, Flags: rd, First: 1, Last: 1, Step: 1, Handler: rangeCmd(zrangeAuto, zrangeDirAuto),
			Group: "sorted_set", Since: "1.2.0", Summary: "Returns members in a sorted set within a range of indexes.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."},
		{Name: "zrangestore", KeySpecs: []string{"OW update", "RO access"}, Arity: -5, Flags: wrD, First: 1, Last: 2, Step: 1,
			Handler: func(c *Client, args [][]byte) { zrangeGeneric(c, args, 2, true, zrangeAuto, zrangeDirAuto, st) },
			Group:   "sorted_set", Since: "6.2.0", Summary: "Stores a range of members from sorted set in a key.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key."},
		{Name: "zrevrange", KeySpecs: []string{"RO access"}, Arity: -4, Flags: rd, First: 1, Last: 1, Step: 1, Handler: rangeCmd(zrangeRank, zrangeDirReverse),
			Group: "sorted_set", Since: "1.2.0", Summary: "Returns members in a sorted set within a range of indexes in reverse order.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."},
		{Name: "zrangebyscore", KeySpecs: []string{"RO access"}, Arity: -4, Flags: rd, First: 1, Last: 1, Step: 1, Handler: rangeCmd(zrangeScore, zrangeDirForward),
			Group: "sorted_set", Since: "1.0.5", Summary: "Returns members in a sorted set within a range of scores.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."},
		{Name: "zrevrangebyscore", KeySpecs: []string{"RO access"}, Arity: -4, Flags: rd, First: 1, Last: 1, Step: 1, Handler: rangeCmd(zrangeScore, zrangeDirReverse),
			Group: "sorted_set", Since: "2.2.0", Summary: "Returns members in a sorted set within a range of scores in reverse order.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."},
		{Name: "zrangebylex", KeySpecs: []string{"RO access"}, Arity: -4, Flags: rd, First: 1, Last: 1, Step: 1, Handler: rangeCmd(zrangeLex, zrangeDirForward),
			Group: "sorted_set", Since: "2.8.9", Summary: "Returns members in a sorted set within a lexicographical range.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."},
		{Name: "zrevrangebylex", KeySpecs: []string{"RO access"}, Arity: -4, Flags: rd, First: 1, Last: 1, Step: 1, Handler: rangeCmd(zrangeLex, zrangeDirReverse),
			Group: "sorted_set", Since: "2.8.9", Summary: "Returns members in a sorted set within a lexicographical range in reverse order.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."},
		{Name: "zremrangebyrank", KeySpecs: []string{"RW delete"}, Arity: 4, Flags: wr, First: 1, Last: 1, Step: 1,
			Handler: func(c *Client, args [][]byte) { zremrangeGeneric(c, args, zrangeRank) },
			Group:   "sorted_set", Since: "2.0.0", Summary: "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."},
		{Name: "zremrangebyscore", KeySpecs: []string{"RW delete"}, Arity: 4, Flags: wr, First: 1, Last: 1, Step: 1,
			Handler: func(c *Client, args [][]byte) { zremrangeGeneric(c, args, zrangeScore) },
			Group:   "sorted_set", Since: "1.2.0", Summary: "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."},
		{Name: "zremrangebylex", KeySpecs: []string{"RW delete"}, Arity: 4, Flags: wr, First: 1, Last: 1, Step: 1,
			Handler: func(c *Client, args [][]byte) { zremrangeGeneric(c, args, zrangeLex) },
			Group:   "sorted_set", Since: "2.8.9", Summary: "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."},
		{Name: "zunionstore", KeySpecs: []string{"OW update", "RO access"}, Arity: -4, Flags: wrD, First: 1, Last: 1, Step: 1, Keys: zsetKeysAfter(2, 1),
			Handler: func(c *Client, args [][]byte) { zsetOpGeneric(c, args, args[1], 2, zsetUnion, false, st) },
			Group:   "sorted_set", Since: "2.0.0", Summary: "Stores the union of multiple sorted sets in a key.", Complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."},
		{Name: "zinterstore", KeySpecs: []string{"OW update", "RO access"}, Arity: -4, Flags: wrD, First: 1, Last: 1, Step: 1, Keys: zsetKeysAfter(2, 1),
			Handler: func(c *Client, args [][]byte) { zsetOpGeneric(c, args, args[1], 2, zsetInter, false, st) },
			Group:   "sorted_set", Since: "2.0.0", Summary: "Stores the intersect of multiple sorted sets in a key.", Complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set."},
		{Name: "zdiffstore", KeySpecs: []string{"OW update", "RO access"}, Arity: -4, Flags: wrD, First: 1, Last: 1, Step: 1, Keys: zsetKeysAfter(2, 1),
			Handler: func(c *Client, args [][]byte) { zsetOpGeneric(c, args, args[1], 2, zsetDiff, false, st) },
			Group:   "sorted_set", Since: "6.2.0", Summary: "Stores the difference of multiple sorted sets in a key.", Complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set."},
		{Name: "zunion", KeySpecs: []string{"RO access"}, Arity: -3, Flags: rd, Keys: zsetKeysAfter(1),
			Handler: func(c *Client, args [][]byte) { zsetOpGeneric(c, args, nil, 1, zsetUnion, false, st) },
			Group:   "sorted_set", Since: "6.2.0", Summary: "Returns the union of multiple sorted sets.", Complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."},
		{Name: "zinter", KeySpecs: []string{"RO access"}, Arity: -3, Flags: rd, Keys: zsetKeysAfter(1),
			Handler: func(c *Client, args [][]byte) { zsetOpGeneric(c, args, nil, 1, zsetInter, false, st) },
			Group:   "sorted_set", Since: "6.2.0", Summary: "Returns the intersect of multiple sorted sets.", Complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set."},
		{Name: "zintercard", KeySpecs: []string{"RO access"}, Arity: -3, Flags: rd, Keys: zsetKeysAfter(1),
			Handler: func(c *Client, args [][]byte) { zsetOpGeneric(c, args, nil, 1, zsetInter, true, st) },
			Group:   "sorted_set", Since: "7.0.0", Summary: "Returns the number of members of the intersect of multiple sorted sets.", Complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets."},
		{Name: "zdiff", KeySpecs: []string{"RO access"}, Arity: -3, Flags: rd, Keys: zsetKeysAfter(1),
			Handler: func(c *Client, args [][]byte) { zsetOpGeneric(c, args, nil, 1, zsetDiff, false, st) },
			Group:   "sorted_set", Since: "6.2.0", Summary: "Returns the difference between multiple sorted sets.", Complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set."},
		{Name: "zpopmin", KeySpecs: []string{"RW access delete"}, Arity: -2, Flags: wrF, First: 1, Last: 1, Step: 1,
			Handler: func(c *Client, args [][]byte) { zpopMinMax(c, args, false) },
			Group:   "sorted_set", Since: "5.0.0", Summary: "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", Complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."},
		{Name: "zpopmax", KeySpecs: []string{"RW access delete"}, Arity: -2, Flags: wrF, First: 1, Last: 1, Step: 1,
			Handler: func(c *Client, args [][]byte) { zpopMinMax(c, args, true) },
			Group:   "sorted_set", Since: "5.0.0", Summary: "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", Complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."},
		{Name: "zmpop", KeySpecs: []string{"RW access delete"}, Arity: -4, Flags: wr, Keys: zsetKeysAfter(1),
			Handler: func(c *Client, args [][]byte) { zmpopGeneric(c, args, 1, false) },
			Group:   "sorted_set", Since: "7.0.0", Summary: "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", Complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped."},
		{Name: "bzpopmin", KeySpecs: []string{"RW access delete"}, Arity: -3, Flags: wrF | FlagNoScript | FlagBlocking, First: 1, Last: -2, Step: 1,
			Handler: func(c *Client, args [][]byte) { bzpopMinMax(c, args, false) },
			Group:   "sorted_set", Since: "5.0.0", Summary: "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", Complexity: "O(log(N)) with N being the number of elements in the sorted set."},
		{Name: "bzpopmax", KeySpecs: []string{"RW access delete"}, Arity: -3, Flags: wrF | FlagNoScript | FlagBlocking, First: 1, Last: -2, Step: 1,
			Handler: func(c *Client, args [][]byte) { bzpopMinMax(c, args, true) },
			Group:   "sorted_set", Since: "5.0.0", Summary: "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.", Complexity: "O(log(N)) with N being the number of elements in the sorted set."},
		{Name: "bzmpop", KeySpecs: []string{"RW access delete"}, Arity: -5, Flags: wr | FlagBlocking, Keys: zsetKeysAfter(2),
			Handler: func(c *Client, args [][]byte) { zmpopGeneric(c, args, 2, true) },
			Group:   "sorted_set", Since: "7.0.0", Summary: "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", Complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped."},
		{Name: "zrandmember", KeySpecs: []string{"RO access"}, Arity: -2, Flags: rd, First: 1, Last: 1, Step: 1, Handler: cmdZRandMember,
			Group: "sorted_set", Since: "6.2.0", Summary: "Returns one or more random members from a sorted set.", Complexity: "O(N) where N is the number of members returned"},
		{Name: "zscan", KeySpecs: []string{"RO access"}, Arity: -3, Flags: rd, First: 1, Last: 1, Step: 1, Handler: cmdZScan,
			Group: "sorted_set", Since: "2.8.0", Summary: "Iterates over members and scores of a sorted set.", Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."},
	}
}

// Redis's error texts of the family.
const (
	errZsetNaN         = "ERR resulting score is not a number (NaN)"
	errZsetMinMax      = "ERR min or max is not a float"
	errZsetLexMinMax   = "ERR min or max not valid string range item"
	errZsetPositive    = "ERR value is out of range, must be positive"
	errZsetTimeout     = "ERR timeout is not a float or out of range"
	errZsetTimeoutNeg  = "ERR timeout is negative"
	errZsetNumkeys     = "ERR numkeys should be greater than 0"
	errZsetCount       = "ERR count should be greater than 0"
	errZsetWeight      = "ERR weight value is not a float"
	errZsetLimitNeg    = "ERR LIMIT can't be negative"
	errZsetOutOfRange  = "ERR value is out of range"
	errZsetRangeLimit  = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errZsetRangeScores = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
)

// zsetLookup finds key's sorted set: (nil, true) when missing, (nil,
// false) after replying WRONGTYPE. write selects lookupKeyWrite.
func zsetLookup(c *Client, key []byte, write bool) (*store.Entry, *zset.ZSet, bool) {
	e, ok := c.LookupKind(key, store.KindZSet, write)
	if !ok || e == nil {
		return nil, nil, ok
	}
	return e, e.Obj.(*zset.ZSet), true
}

// zsetLongArg parses an integer as Redis's getLongFromObjectOrReply: msg
// (or the generic text) when it is not one.
func zsetLongArg(c *Client, b []byte, msg string) (int64, bool) {
	n, ok := ParseInt(b)
	if !ok {
		if msg == "" {
			msg = ErrNotInt
		}
		c.ReplyError(msg)
	}
	return n, ok
}

// zsetFloatArg parses a float as Redis's getDoubleFromObjectOrReply.
func zsetFloatArg(c *Client, b []byte, msg string) (float64, bool) {
	f, ok := zset.ParseScore(b)
	if !ok {
		if msg == "" {
			msg = ErrNotFloat
		}
		c.ReplyError(msg)
	}
	return f, ok
}

// zsetStore stores a computed set at key (Redis's setKey: the old value
// and its TTL go), or deletes key when the set is empty; event is the
// notification of a non-empty result. It returns the stored size.
func zsetStore(c *Client, key []byte, z *zset.ZSet, event string) int {
	if z == nil || z.Len() == 0 {
		if c.DB().Delete(key, c.Now()) {
			c.Notify(store.ClassGeneric, "del", key)
		} else {
			c.Unchanged()
		}
		return 0
	}
	c.DB().SetObject(key, z, c.Now(), false)
	c.Notify(store.ClassZSet, event, key)
	c.SignalReady(key)
	return z.Len()
}

// zaddGeneric is ZADD and ZINCRBY (flags AddIncr).
func zaddGeneric(c *Client, args [][]byte, flags zset.AddFlags, st *zsetState) {
	key := args[1]
	ch := false
	scoreIdx := 2
	for ; scoreIdx < len(args); scoreIdx++ {
		a := args[scoreIdx]
		switch {
		case EqualFold(a, "nx"):
			flags |= zset.AddNX
		case EqualFold(a, "xx"):
			flags |= zset.AddXX
		case EqualFold(a, "ch"):
			ch = true
		case EqualFold(a, "incr"):
			flags |= zset.AddIncr
		case EqualFold(a, "gt"):
			flags |= zset.AddGT
		case EqualFold(a, "lt"):
			flags |= zset.AddLT
		default:
			goto parsed
		}
	}
parsed:
	incr := flags&zset.AddIncr != 0
	nx, xx, gt, lt := flags&zset.AddNX != 0, flags&zset.AddXX != 0, flags&zset.AddGT != 0, flags&zset.AddLT != 0
	elements := len(args) - scoreIdx
	if elements%2 != 0 || elements == 0 {
		c.ReplyError(ErrSyntax)
		return
	}
	elements /= 2
	if nx && xx {
		c.ReplyError("ERR XX and NX options at the same time are not compatible")
		return
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		c.ReplyError("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	}
	if incr && elements > 1 {
		c.ReplyError("ERR INCR option supports a single increment-element pair")
		return
	}
	// Every score is checked before anything changes.
	var oneScore [1]float64
	var oneMember [1][]byte
	scores, members := oneScore[:0], oneMember[:0]
	if elements > 1 {
		scores, members = make([]float64, 0, elements), make([][]byte, 0, elements)
	}
	for j := 0; j < elements; j++ {
		f, ok := zsetFloatArg(c, args[scoreIdx+2*j], "")
		if !ok {
			return
		}
		scores = append(scores, f)
		members = append(members, args[scoreIdx+2*j+1])
	}
	zaddApply(c, key, flags, ch, members, scores, st)
}

// zaddApply adds members with scores (already parsed and checked) and
// replies as ZADD (or ZINCRBY / INCR) does; GEOADD uses it too.
func zaddApply(c *Client, key []byte, flags zset.AddFlags, ch bool, members [][]byte, scores []float64, st *zsetState) {
	incr, xx := flags&zset.AddIncr != 0, flags&zset.AddXX != 0
	e, z, ok := zsetLookup(c, key, true)
	if !ok {
		return
	}
	lim := st.limits()
	created := false
	if z == nil {
		if xx {
			c.Unchanged()
			if incr {
				c.ReplyNull()
			} else {
				c.ReplyInt(0)
			}
			return
		}
		z = zset.New(lim.MaxListpackEntries != 0 && lim.MaxListpackValue >= int64(len(members[0])), 0)
		created = true
	}
	added, updated, processed := 0, 0, 0
	var score float64
	nan := false
	for j, m := range members {
		res, ns := z.Add(m, scores[j], flags, lim)
		if res&zset.ResultNaN != 0 {
			nan = true
			break
		}
		if res&zset.ResultAdded != 0 {
			added++
		}
		if res&zset.ResultUpdated != 0 {
			updated++
		}
		if res&zset.ResultNop == 0 {
			processed++
		}
		score = ns
	}
	if created {
		// Redis adds the key before its elements: it exists even if the
		// command then fails (a NaN increment cannot happen on a new
		// member, so it is never left empty).
		c.DB().SetObject(key, z, c.Now(), false)
		c.SignalReady(key)
	} else if added > 0 || updated > 0 {
		c.DB().Updated(e)
	} else {
		c.Unchanged()
	}
	switch {
	case nan:
		c.ReplyError(errZsetNaN)
	case incr:
		if processed > 0 {
			zsetReplyScore(c, score)
		} else {
			c.ReplyNull()
		}
	case ch:
		c.ReplyInt(int64(added + updated))
	default:
		c.ReplyInt(int64(added))
	}
	if added > 0 || updated > 0 {
		event := "zadd"
		if incr {
			event = "zincr"
		}
		c.Notify(store.ClassZSet, event, key)
	}
}

func cmdZRem(c *Client, args [][]byte) {
	key := args[1]
	e, z, ok := zsetLookup(c, key, true)
	if !ok {
		return
	}
	if z == nil {
		c.Unchanged()
		c.ReplyInt(0)
		return
	}
	c.ReplyInt(removeMembers(c, e, args, z.Delete, z.Len, store.ClassZSet, "zrem"))
}

func cmdZCard(c *Client, args [][]byte) {
	_, z, ok := zsetLookup(c, args[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.ReplyInt(0)
		return
	}
	c.ReplyInt(int64(z.Len()))
}

func cmdZScore(c *Client, args [][]byte) {
	_, z, ok := zsetLookup(c, args[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.ReplyNull()
		return
	}
	if s, found := z.Score(args[2]); found {
		zsetReplyScore(c, s)
	} else {
		c.ReplyNull()
	}
}

func cmdZMScore(c *Client, args [][]byte) {
	_, z, ok := zsetLookup(c, args[1], false)
	if !ok {
		return
	}
	c.ReplyArray(len(args) - 2)
	for _, m := range args[2:] {
		if z == nil {
			c.ReplyNull()
			continue
		}
		if s, found := z.Score(m); found {
			zsetReplyScore(c, s)
		} else {
			c.ReplyNull()
		}
	}
}

func zrankGeneric(c *Client, args [][]byte, reverse bool) {
	_, z, ok := zsetLookup(c, args[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.ReplyNull()
		return
	}
	if r, found := z.Rank(args[2], reverse); found {
		c.ReplyInt(int64(r))
	} else {
		c.ReplyNull()
	}
}

// zsetAppendElem appends one element of a range reply: the member, and
// with scores its score (RESP3 nests the pair in an array).
func zsetAppendElem(b []byte, proto resp.Proto, member string, score float64, withScores bool) []byte {
	if withScores && proto == resp.Proto3 {
		b = resp.AppendArray(b, 2)
	}
	b = resp.AppendBulkString(b, member)
	if withScores {
		b = zsetAppendScore(b, proto, score)
	}
	return b
}

// zsetFormatScore formats a score as Redis 7.0 replies it (%.17g, inf,
// -inf), with a fast path for integral scores: below 1e17 %.17g writes
// them as plain integers.
func zsetFormatScore(b []byte, f float64) []byte {
	if f == math.Trunc(f) && f > -1e17 && f < 1e17 {
		if f == 0 && math.Signbit(f) {
			return append(b, "-0"...)
		}
		return strconv.AppendInt(b, int64(f), 10)
	}
	return resp.AppendFloat(b, f)
}

// zsetAppendScore appends a score as a RESP3 double or a RESP2 bulk
// string.
func zsetAppendScore(b []byte, proto resp.Proto, f float64) []byte {
	var tmp [32]byte
	num := zsetFormatScore(tmp[:0], f)
	if proto == resp.Proto3 {
		b = append(b, ',')
		b = append(b, num...)
		return append(b, '\r', '\n')
	}
	return resp.AppendBulk(b, num)
}

// zsetReplyScore replies a score (a double).
func zsetReplyScore(c *Client, f float64) {
	var tmp [40]byte
	if c.Proto() == resp.Proto3 {
		out := append(zsetFormatScore(append(tmp[:0], ','), f), '\r', '\n')
		c.ReplyRaw(out)
		return
	}
	c.ReplyBulk(zsetFormatScore(tmp[:0], f))
}
