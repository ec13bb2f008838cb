package cached

import (
	"strings"

	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/cached/zset"
	"github.com/anvilstack/anvil/pkg/resp"
)

// ZRANGE and its legacy forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT and the
// ZREMRANGEBY* commands.

type zrangeType uint8

const (
	zrangeAuto zrangeType = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

type zrangeDir uint8

const (
	zrangeDirAuto zrangeDir = iota
	zrangeDirForward
	zrangeDirReverse
)

// zrangeSink receives a range: the client's reply, or the entries of
// the set ZRANGESTORE builds.
type zrangeSink struct {
	c          *Client
	proto      resp.Proto
	withScores bool
	store      bool

	deferred bool   // the reply length is known only at the end
	body     []byte // the elements, when deferred
	n        int

	entries        []zset.Entry
	maxLen, totLen int
}

// begin starts a range of length elements (-1 when unknown).
func (s *zrangeSink) begin(length int) {
	if s.store {
		if length > 0 {
			s.entries = make([]zset.Entry, 0, length)
		}
		return
	}
	if length > 0 {
		if s.withScores && s.proto == resp.Proto2 {
			length *= 2
		}
		s.c.ReplyArray(length)
		return
	}
	s.deferred = true
	s.body = s.c.Scratch()
}

func (s *zrangeSink) emit(member string, score float64) {
	s.n++
	switch {
	case s.store:
		m := strings.Clone(member)
		s.entries = append(s.entries, zset.Entry{Member: m, Score: score})
		s.maxLen = max(s.maxLen, len(m))
		s.totLen += len(m)
	case s.deferred:
		s.body = zsetAppendElem(s.body, s.proto, member, score, s.withScores)
	default:
		if s.withScores && s.proto == resp.Proto3 {
			s.c.ReplyArray(2)
		}
		s.c.ReplyBulkString(member)
		if s.withScores {
			zsetReplyScore(s.c, score)
		}
	}
}

// finish ends the range: the deferred reply is written, or the store's
// destination set and the count.
func (s *zrangeSink) finish(dst []byte, reverse bool, st *zsetState) {
	if s.store {
		var z *zset.ZSet
		if len(s.entries) > 0 {
			if reverse {
				for i, j := 0, len(s.entries)-1; i < j; i, j = i+1, j-1 {
					s.entries[i], s.entries[j] = s.entries[j], s.entries[i]
				}
			}
			z = zset.FromSorted(s.entries, st.limits().Fits(len(s.entries), s.maxLen, s.totLen))
		}
		s.c.ReplyInt(int64(zsetStore(s.c, dst, z, "zrangestore")))
		return
	}
	if s.deferred {
		n := s.n
		if s.withScores && s.proto == resp.Proto2 {
			n *= 2
		}
		s.c.ReplyArray(n)
		s.c.ReplyRaw(s.body)
		s.c.SetScratch(s.body)
	}
}

// zrangeGeneric is ZRANGE, ZRANGESTORE (store, with the source key at
// keyIdx 2) and the legacy Z[REV]RANGE[BYSCORE|BYLEX] commands, which fix
// rt and dir.
func zrangeGeneric(c *Client, args [][]byte, keyIdx int, store bool, rt zrangeType, dir zrangeDir, st *zsetState) {
	key := args[keyIdx]
	minIdx, maxIdx := keyIdx+1, keyIdx+2
	withScores := false
	var offset, limit int64 = 0, -1
	for j := keyIdx + 3; j < len(args); j++ {
		left := len(args) - j - 1
		a := args[j]
		switch {
		case !store && EqualFold(a, "withscores"):
			withScores = true
		case EqualFold(a, "limit") && left >= 2:
			var ok bool
			if offset, ok = zsetLongArg(c, args[j+1], ""); !ok {
				return
			}
			if limit, ok = zsetLongArg(c, args[j+2], ""); !ok {
				return
			}
			j += 2
		case dir == zrangeDirAuto && EqualFold(a, "rev"):
			dir = zrangeDirReverse
		case rt == zrangeAuto && EqualFold(a, "bylex"):
			rt = zrangeLex
		case rt == zrangeAuto && EqualFold(a, "byscore"):
			rt = zrangeScore
		default:
			c.ReplyError(ErrSyntax)
			return
		}
	}
	if dir == zrangeDirAuto {
		dir = zrangeDirForward
	}
	if rt == zrangeAuto {
		rt = zrangeRank
	}
	if limit != -1 && rt == zrangeRank {
		c.ReplyError(errZsetRangeLimit)
		return
	}
	if withScores && rt == zrangeLex {
		c.ReplyError(errZsetRangeScores)
		return
	}
	reverse := dir == zrangeDirReverse
	if reverse && rt != zrangeRank {
		minIdx, maxIdx = maxIdx, minIdx
	}
	var start, end int64
	var sr zset.ScoreRange
	var lr zset.LexRange
	switch rt {
	case zrangeRank:
		var ok bool
		if start, ok = zsetLongArg(c, args[minIdx], ""); !ok {
			return
		}
		if end, ok = zsetLongArg(c, args[maxIdx], ""); !ok {
			return
		}
	case zrangeScore:
		var ok bool
		if sr, ok = zset.ParseScoreRange(args[minIdx], args[maxIdx]); !ok {
			c.ReplyError(errZsetMinMax)
			return
		}
	case zrangeLex:
		var ok bool
		if lr, ok = zset.ParseLexRange(args[minIdx], args[maxIdx]); !ok {
			c.ReplyError(errZsetLexMinMax)
			return
		}
	}
	sink := &zrangeSink{c: c, proto: c.Proto(), withScores: withScores || store, store: store}
	_, z, ok := zsetLookup(c, key, false)
	if !ok {
		return
	}
	if z == nil {
		if store {
			sink.finish(args[1], false, st)
		} else {
			c.ReplyArray(0)
		}
		return
	}
	switch rt {
	case zrangeRank:
		zrangeByRank(sink, z, start, end, reverse)
	case zrangeScore:
		zrangeByScore(sink, z, &sr, offset, limit, reverse)
	case zrangeLex:
		zrangeByLex(sink, z, &lr, offset, limit, reverse)
	}
	sink.finish(args[1], reverse, st)
}

// zsetSanitizeRanks turns start and end (negative from the end) into
// 0-based ranks of a set of length n; ok is false for an empty range.
func zsetSanitizeRanks(start, end int64, n int) (int, int, bool) {
	l := int64(n)
	if start < 0 {
		start += l
	}
	if end < 0 {
		end += l
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= l {
		return 0, 0, false
	}
	if end >= l {
		end = l - 1
	}
	return int(start), int(end), true
}

func zrangeByRank(s *zrangeSink, z *zset.ZSet, start, end int64, reverse bool) {
	n := z.Len()
	from, to, ok := zsetSanitizeRanks(start, end, n)
	if !ok {
		s.begin(0)
		return
	}
	count := to - from + 1
	s.begin(count)
	var p zset.Pos
	if reverse {
		p = z.ByRank(n - 1 - from)
	} else {
		p = z.ByRank(from)
	}
	for ; count > 0 && p.Valid(); count-- {
		s.emit(p.Member(), p.Score())
		if reverse {
			p = p.Prev()
		} else {
			p = p.Next()
		}
	}
}

func zrangeByScore(s *zrangeSink, z *zset.ZSet, r *zset.ScoreRange, offset, limit int64, reverse bool) {
	s.begin(-1)
	if offset > 0 && offset >= int64(z.Len()) {
		return
	}
	var p zset.Pos
	if reverse {
		p = z.LastInRange(r)
	} else {
		p = z.FirstInRange(r)
	}
	// As in Redis, a negative offset walks off the end: nothing is
	// returned; a negative limit means no limit.
	for ; p.Valid() && offset != 0; offset-- {
		if reverse {
			p = p.Prev()
		} else {
			p = p.Next()
		}
	}
	for ; p.Valid() && limit != 0; limit-- {
		if (reverse && !r.GteMin(p.Score())) || (!reverse && !r.LteMax(p.Score())) {
			break
		}
		s.emit(p.Member(), p.Score())
		if reverse {
			p = p.Prev()
		} else {
			p = p.Next()
		}
	}
}

func zrangeByLex(s *zrangeSink, z *zset.ZSet, r *zset.LexRange, offset, limit int64, reverse bool) {
	s.begin(-1)
	var p zset.Pos
	if reverse {
		p = z.LastInLexRange(r)
	} else {
		p = z.FirstInLexRange(r)
	}
	for ; p.Valid() && offset != 0; offset-- {
		if reverse {
			p = p.Prev()
		} else {
			p = p.Next()
		}
	}
	for ; p.Valid() && limit != 0; limit-- {
		if !zsetLexInBound(r, p.Member(), reverse) {
			break
		}
		s.emit(p.Member(), p.Score())
		if reverse {
			p = p.Prev()
		} else {
			p = p.Next()
		}
	}
}

// zsetLexInBound is the check Redis makes while walking a lex range: the
// far bound only (max going forward, min going backward).
func zsetLexInBound(r *zset.LexRange, m string, reverse bool) bool {
	if reverse {
		return r.GteMin(m)
	}
	return r.LteMax(m)
}

func cmdZCount(c *Client, args [][]byte) {
	r, ok := zset.ParseScoreRange(args[2], args[3])
	if !ok {
		c.ReplyError(errZsetMinMax)
		return
	}
	_, z, ok := zsetLookup(c, args[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.ReplyInt(0)
		return
	}
	c.ReplyInt(int64(z.Count(&r)))
}

func cmdZLexCount(c *Client, args [][]byte) {
	r, ok := zset.ParseLexRange(args[2], args[3])
	if !ok {
		c.ReplyError(errZsetLexMinMax)
		return
	}
	_, z, ok := zsetLookup(c, args[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.ReplyInt(0)
		return
	}
	c.ReplyInt(int64(z.LexCount(&r)))
}

// zremrangeGeneric is ZREMRANGEBYRANK, ZREMRANGEBYSCORE and
// ZREMRANGEBYLEX.
func zremrangeGeneric(c *Client, args [][]byte, rt zrangeType) {
	key := args[1]
	var start, end int64
	var sr zset.ScoreRange
	var lr zset.LexRange
	var event string
	switch rt {
	case zrangeRank:
		event = "zremrangebyrank"
		var ok bool
		if start, ok = zsetLongArg(c, args[2], ""); !ok {
			return
		}
		if end, ok = zsetLongArg(c, args[3], ""); !ok {
			return
		}
	case zrangeScore:
		event = "zremrangebyscore"
		var ok bool
		if sr, ok = zset.ParseScoreRange(args[2], args[3]); !ok {
			c.ReplyError(errZsetMinMax)
			return
		}
	case zrangeLex:
		event = "zremrangebylex"
		var ok bool
		if lr, ok = zset.ParseLexRange(args[2], args[3]); !ok {
			c.ReplyError(errZsetLexMinMax)
			return
		}
	}
	e, z, ok := zsetLookup(c, key, true)
	if !ok {
		return
	}
	if z == nil {
		c.Unchanged()
		c.ReplyInt(0)
		return
	}
	var deleted int
	switch rt {
	case zrangeRank:
		from, to, ok := zsetSanitizeRanks(start, end, z.Len())
		if !ok {
			c.Unchanged()
			c.ReplyInt(0)
			return
		}
		deleted = z.DeleteRangeByRank(from, to)
	case zrangeScore:
		deleted = z.DeleteRangeByScore(&sr)
	case zrangeLex:
		deleted = z.DeleteRangeByLex(&lr)
	}
	if deleted > 0 {
		if z.Len() == 0 {
			c.DB().Unlink(e)
			c.Notify(store.ClassZSet, event, key)
			c.Notify(store.ClassGeneric, "del", key)
		} else {
			c.DB().Updated(e)
			c.Notify(store.ClassZSet, event, key)
		}
	} else {
		c.Unchanged()
	}
	c.ReplyInt(int64(deleted))
}
