//lint:file-ignore SA1019 the deprecated commands (GEORADIUS, ZRANGEBYSCORE ...) are part of the family under test

package cached_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The sorted-set family through go-redis, in RESP2 and RESP3.
func TestZSetGoRedis(t *testing.T) {
	_, addr := startCached(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp=%d", proto), func(t *testing.T) {
			rdb := newClient(t, addr, proto)
			ok(t, rdb.FlushAll(ctx))
			t.Run("add", func(t *testing.T) { zsetGoRedisAdd(t, rdb) })
			t.Run("ranges", func(t *testing.T) { zsetGoRedisRanges(t, rdb) })
			t.Run("remove", func(t *testing.T) { zsetGoRedisRemove(t, rdb) })
			t.Run("algebra", func(t *testing.T) { zsetGoRedisAlgebra(t, rdb) })
			t.Run("pop", func(t *testing.T) { zsetGoRedisPop(t, rdb) })
			t.Run("random", func(t *testing.T) { zsetGoRedisRandom(t, rdb) })
			t.Run("scan", func(t *testing.T) { zsetGoRedisScan(t, rdb) })
			t.Run("encoding", func(t *testing.T) { zsetGoRedisEncoding(t, rdb) })
			t.Run("pipeline-and-multi", func(t *testing.T) { zsetGoRedisPipeline(t, rdb) })
		})
	}
}

func zsetErr(t *testing.T, err error, prefix string) {
	t.Helper()
	if err == nil || !strings.HasPrefix(err.Error(), prefix) {
		t.Fatalf("error %v, want %q...", err, prefix)
	}
}

func zs(pairs ...any) []redis.Z {
	var out []redis.Z
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, redis.Z{Member: pairs[i], Score: toFloat(pairs[i+1])})
	}
	return out
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	panic(v)
}

func eqZ(t *testing.T, what string, got []redis.Z, want []redis.Z) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func zsetGoRedisAdd(t *testing.T, rdb *redis.Client) {
	eq(t, "ZADD", ok(t, rdb.ZAdd(ctx, "z", zs("a", 1, "b", 2, "c", 3)...)).Val(), int64(3))
	eq(t, "ZADD again", ok(t, rdb.ZAdd(ctx, "z", zs("a", 1, "d", 4)...)).Val(), int64(1))
	eq(t, "ZADD CH", ok(t, rdb.ZAddArgs(ctx, "z", redis.ZAddArgs{Ch: true, Members: zs("a", 10, "e", 5)})).Val(), int64(2))
	eq(t, "ZADD NX", ok(t, rdb.ZAddNX(ctx, "z", zs("a", 20, "f", 6)...)).Val(), int64(1))
	eq(t, "ZADD XX CH", ok(t, rdb.ZAddArgs(ctx, "z", redis.ZAddArgs{XX: true, Ch: true, Members: zs("a", 11, "g", 7)})).Val(), int64(1))
	eq(t, "ZADD GT", ok(t, rdb.ZAddArgs(ctx, "z", redis.ZAddArgs{GT: true, Ch: true, Members: zs("a", 5, "b", 20)})).Val(), int64(1))
	eq(t, "ZADD LT", ok(t, rdb.ZAddArgs(ctx, "z", redis.ZAddArgs{LT: true, Ch: true, Members: zs("a", 5, "b", 30)})).Val(), int64(1))
	eq(t, "ZSCORE", ok(t, rdb.ZScore(ctx, "z", "a")).Val(), 5.0)
	eq(t, "ZSCORE b", ok(t, rdb.ZScore(ctx, "z", "b")).Val(), 20.0)
	eq(t, "ZADD INCR", ok(t, rdb.ZAddArgsIncr(ctx, "z", redis.ZAddArgs{Members: zs("a", 1.5)})).Val(), 6.5)
	if err := rdb.ZAddArgsIncr(ctx, "z", redis.ZAddArgs{NX: true, Members: zs("a", 1)}).Err(); err != redis.Nil {
		t.Fatalf("ZADD NX INCR on a member: %v, want nil reply", err)
	}
	eq(t, "ZINCRBY", ok(t, rdb.ZIncrBy(ctx, "z", -0.5, "a")).Val(), 6.0)
	eq(t, "ZINCRBY new", ok(t, rdb.ZIncrBy(ctx, "z", 3, "new")).Val(), 3.0)
	eq(t, "ZCARD", ok(t, rdb.ZCard(ctx, "z")).Val(), int64(7))
	eq(t, "ZCARD missing", ok(t, rdb.ZCard(ctx, "nokey")).Val(), int64(0))
	if err := rdb.ZScore(ctx, "z", "nosuch").Err(); err != redis.Nil {
		t.Fatalf("ZSCORE missing member: %v", err)
	}
	if got := ok(t, rdb.ZMScore(ctx, "z", "a", "nosuch", "b")).Val(); !slices.Equal(got, []float64{6, 0, 20}) {
		t.Fatalf("ZMSCORE = %v", got)
	}
	eq(t, "ZRANK", ok(t, rdb.ZRank(ctx, "z", "c")).Val(), int64(0))
	eq(t, "ZREVRANK", ok(t, rdb.ZRevRank(ctx, "z", "c")).Val(), int64(6))
	if err := rdb.ZRank(ctx, "z", "nosuch").Err(); err != redis.Nil {
		t.Fatalf("ZRANK missing: %v", err)
	}
	// Scores keep every bit; inf is a score.
	ok(t, rdb.ZAdd(ctx, "f", zs("x", 0.1, "y", math.Inf(1), "w", math.Inf(-1), "v", 1e300)...))
	eq(t, "ZSCORE 0.1", ok(t, rdb.ZScore(ctx, "f", "x")).Val(), 0.1)
	eq(t, "ZSCORE inf", ok(t, rdb.ZScore(ctx, "f", "y")).Val(), math.Inf(1))
	eq(t, "ZSCORE -inf", ok(t, rdb.ZScore(ctx, "f", "w")).Val(), math.Inf(-1))
	eq(t, "ZSCORE 1e300", ok(t, rdb.ZScore(ctx, "f", "v")).Val(), 1e300)
	zsetErr(t, rdb.ZIncrBy(ctx, "f", math.Inf(-1), "y").Err(), "ERR resulting score is not a number (NaN)")
	zsetErr(t, rdb.Do(ctx, "ZADD", "f", "nan", "x").Err(), "ERR value is not a valid float")
	zsetErr(t, rdb.Do(ctx, "ZADD", "f", "NX", "XX", "1", "x").Err(), "ERR XX and NX options at the same time are not compatible")
	zsetErr(t, rdb.Do(ctx, "ZADD", "f", "GT", "LT", "1", "x").Err(), "ERR GT, LT, and/or NX options at the same time are not compatible")
	zsetErr(t, rdb.Do(ctx, "ZADD", "f", "INCR", "1", "x", "2", "y").Err(), "ERR INCR option supports a single increment-element pair")
	zsetErr(t, rdb.Do(ctx, "ZADD", "f", "1").Err(), "ERR wrong number of arguments for 'zadd' command")
	zsetErr(t, rdb.Do(ctx, "ZADD", "f", "1", "x", "2").Err(), "ERR syntax error")
	ok(t, rdb.Set(ctx, "str", "v", 0))
	zsetErr(t, rdb.ZAdd(ctx, "str", zs("a", 1)...).Err(), "WRONGTYPE")
	zsetErr(t, rdb.ZScore(ctx, "str", "a").Err(), "WRONGTYPE")
	eq(t, "TYPE", ok(t, rdb.Type(ctx, "z")).Val(), "zset")
}

func zsetGoRedisRanges(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.Del(ctx, "r"))
	ok(t, rdb.ZAdd(ctx, "r", zs("a", 1, "b", 2, "c", 3, "d", 4, "e", 5)...))
	eq(t, "ZRANGE", fmt.Sprint(ok(t, rdb.ZRange(ctx, "r", 0, -1)).Val()), "[a b c d e]")
	eqZ(t, "ZRANGE WITHSCORES", ok(t, rdb.ZRangeWithScores(ctx, "r", 1, 2)).Val(), zs("b", 2, "c", 3))
	eq(t, "ZREVRANGE", fmt.Sprint(ok(t, rdb.ZRevRange(ctx, "r", 0, 1)).Val()), "[e d]")
	eqZ(t, "ZREVRANGE WITHSCORES", ok(t, rdb.ZRevRangeWithScores(ctx, "r", 0, 0)).Val(), zs("e", 5))
	eq(t, "ZRANGE BYSCORE", fmt.Sprint(ok(t, rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: "r", Start: "(1", Stop: 4, ByScore: true})).Val()), "[b c d]")
	eq(t, "ZRANGE BYSCORE REV LIMIT", fmt.Sprint(ok(t, rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: "r", Start: "+inf", Stop: "-inf", ByScore: true, Rev: true, Offset: 1, Count: 2})).Val()), "[d c]")
	eqZ(t, "ZRANGE BYSCORE WITHSCORES", ok(t, rdb.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: "r", Start: 4, Stop: "+inf", ByScore: true})).Val(), zs("d", 4, "e", 5))
	eq(t, "ZRANGEBYSCORE", fmt.Sprint(ok(t, rdb.ZRangeByScore(ctx, "r", &redis.ZRangeBy{Min: "2", Max: "(4"})).Val()), "[b c]")
	eqZ(t, "ZRANGEBYSCORE WITHSCORES LIMIT", ok(t, rdb.ZRangeByScoreWithScores(ctx, "r", &redis.ZRangeBy{Min: "-inf", Max: "+inf", Offset: 3, Count: 5})).Val(), zs("d", 4, "e", 5))
	eq(t, "ZREVRANGEBYSCORE", fmt.Sprint(ok(t, rdb.ZRevRangeByScore(ctx, "r", &redis.ZRangeBy{Max: "4", Min: "2"})).Val()), "[d c b]")
	eqZ(t, "ZREVRANGEBYSCORE WITHSCORES", ok(t, rdb.ZRevRangeByScoreWithScores(ctx, "r", &redis.ZRangeBy{Max: "+inf", Min: "(4"})).Val(), zs("e", 5))
	eq(t, "ZCOUNT", ok(t, rdb.ZCount(ctx, "r", "(1", "5")).Val(), int64(4))
	zsetErr(t, rdb.ZRangeByScore(ctx, "r", &redis.ZRangeBy{Min: "x", Max: "1"}).Err(), "ERR min or max is not a float")
	zsetErr(t, rdb.Do(ctx, "ZRANGE", "r", "0", "1", "LIMIT", "0", "1").Err(), "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")

	ok(t, rdb.Del(ctx, "l"))
	ok(t, rdb.ZAdd(ctx, "l", zs("alpha", 0, "bravo", 0, "charlie", 0, "delta", 0)...))
	eq(t, "ZRANGEBYLEX", fmt.Sprint(ok(t, rdb.ZRangeByLex(ctx, "l", &redis.ZRangeBy{Min: "[b", Max: "(d"})).Val()), "[bravo charlie]")
	eq(t, "ZREVRANGEBYLEX", fmt.Sprint(ok(t, rdb.ZRevRangeByLex(ctx, "l", &redis.ZRangeBy{Max: "+", Min: "-", Count: 2})).Val()), "[delta charlie]")
	eq(t, "ZRANGE BYLEX", fmt.Sprint(ok(t, rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: "l", Start: "-", Stop: "[bravo", ByLex: true})).Val()), "[alpha bravo]")
	eq(t, "ZLEXCOUNT", ok(t, rdb.ZLexCount(ctx, "l", "(alpha", "+")).Val(), int64(3))
	zsetErr(t, rdb.ZRangeByLex(ctx, "l", &redis.ZRangeBy{Min: "a", Max: "+"}).Err(), "ERR min or max not valid string range item")

	eq(t, "ZRANGESTORE", ok(t, rdb.ZRangeStore(ctx, "dst", redis.ZRangeArgs{Key: "r", Start: 1, Stop: 3})).Val(), int64(3))
	eqZ(t, "stored", ok(t, rdb.ZRangeWithScores(ctx, "dst", 0, -1)).Val(), zs("b", 2, "c", 3, "d", 4))
	eq(t, "ZRANGESTORE empty", ok(t, rdb.ZRangeStore(ctx, "dst", redis.ZRangeArgs{Key: "r", Start: 10, Stop: 20})).Val(), int64(0))
	eq(t, "ZRANGESTORE empty deletes", ok(t, rdb.Exists(ctx, "dst")).Val(), int64(0))
}

func zsetGoRedisRemove(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.Del(ctx, "d"))
	ok(t, rdb.ZAdd(ctx, "d", zs("a", 1, "b", 2, "c", 3, "d", 4, "e", 5, "f", 6)...))
	eq(t, "ZREM", ok(t, rdb.ZRem(ctx, "d", "a", "nosuch")).Val(), int64(1))
	eq(t, "ZREMRANGEBYRANK", ok(t, rdb.ZRemRangeByRank(ctx, "d", 0, 0)).Val(), int64(1))
	eq(t, "ZREMRANGEBYSCORE", ok(t, rdb.ZRemRangeByScore(ctx, "d", "(3", "4")).Val(), int64(1))
	eq(t, "left", fmt.Sprint(ok(t, rdb.ZRange(ctx, "d", 0, -1)).Val()), "[c e f]")
	ok(t, rdb.ZAdd(ctx, "lx", zs("a", 0, "b", 0, "c", 0)...))
	eq(t, "ZREMRANGEBYLEX", ok(t, rdb.ZRemRangeByLex(ctx, "lx", "[a", "(c")).Val(), int64(2))
	eq(t, "ZREMRANGEBYLEX all", ok(t, rdb.ZRemRangeByLex(ctx, "lx", "-", "+")).Val(), int64(1))
	eq(t, "emptied set deleted", ok(t, rdb.Exists(ctx, "lx")).Val(), int64(0))
	eq(t, "ZREM all", ok(t, rdb.ZRem(ctx, "d", "c", "e", "f")).Val(), int64(3))
	eq(t, "emptied by ZREM", ok(t, rdb.Exists(ctx, "d")).Val(), int64(0))
}

func zsetGoRedisAlgebra(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.Del(ctx, "u1", "u2", "s1"))
	ok(t, rdb.ZAdd(ctx, "u1", zs("a", 1, "b", 2, "c", 3)...))
	ok(t, rdb.ZAdd(ctx, "u2", zs("b", 10, "c", 20, "d", 30)...))
	ok(t, rdb.SAdd(ctx, "s1", "a", "d", "x"))
	eq(t, "ZUNION", fmt.Sprint(ok(t, rdb.ZUnion(ctx, redis.ZStore{Keys: []string{"u1", "u2"}})).Val()), "[a b c d]")
	eqZ(t, "ZUNION WITHSCORES WEIGHTS", ok(t, rdb.ZUnionWithScores(ctx, redis.ZStore{Keys: []string{"u1", "u2"}, Weights: []float64{2, 1}})).Val(),
		zs("a", 2, "b", 14, "c", 26, "d", 30))
	eqZ(t, "ZUNION with a set", ok(t, rdb.ZUnionWithScores(ctx, redis.ZStore{Keys: []string{"u1", "s1"}, Aggregate: "MAX"})).Val(),
		zs("a", 1, "d", 1, "x", 1, "b", 2, "c", 3))
	eqZ(t, "ZINTER MIN", ok(t, rdb.ZInterWithScores(ctx, &redis.ZStore{Keys: []string{"u1", "u2"}, Aggregate: "MIN"})).Val(), zs("b", 2, "c", 3))
	eq(t, "ZINTER", fmt.Sprint(ok(t, rdb.ZInter(ctx, &redis.ZStore{Keys: []string{"u2", "s1"}})).Val()), "[d]")
	eq(t, "ZINTERCARD", ok(t, rdb.ZInterCard(ctx, 0, "u1", "u2")).Val(), int64(2))
	eq(t, "ZINTERCARD LIMIT", ok(t, rdb.ZInterCard(ctx, 1, "u1", "u2")).Val(), int64(1))
	eqZ(t, "ZDIFF", ok(t, rdb.ZDiffWithScores(ctx, "u1", "u2")).Val(), zs("a", 1))
	eq(t, "ZDIFF plain", fmt.Sprint(ok(t, rdb.ZDiff(ctx, "u2", "u1", "s1")).Val()), "[]")
	eq(t, "ZUNIONSTORE", ok(t, rdb.ZUnionStore(ctx, "out", &redis.ZStore{Keys: []string{"u1", "u2"}})).Val(), int64(4))
	eqZ(t, "stored union", ok(t, rdb.ZRangeWithScores(ctx, "out", 0, -1)).Val(), zs("a", 1, "b", 12, "c", 23, "d", 30))
	eq(t, "ZINTERSTORE", ok(t, rdb.ZInterStore(ctx, "out", &redis.ZStore{Keys: []string{"u1", "u2"}, Weights: []float64{1, 0}})).Val(), int64(2))
	eqZ(t, "stored inter", ok(t, rdb.ZRangeWithScores(ctx, "out", 0, -1)).Val(), zs("b", 2, "c", 3))
	eq(t, "ZDIFFSTORE", ok(t, rdb.ZDiffStore(ctx, "out", "u2", "u1")).Val(), int64(1))
	eqZ(t, "stored diff", ok(t, rdb.ZRangeWithScores(ctx, "out", 0, -1)).Val(), zs("d", 30))
	eq(t, "ZDIFFSTORE empty", ok(t, rdb.ZDiffStore(ctx, "out", "u1", "u1")).Val(), int64(0))
	eq(t, "empty result deletes", ok(t, rdb.Exists(ctx, "out")).Val(), int64(0))
	zsetErr(t, rdb.Do(ctx, "ZUNION", 0, "u1").Err(), "ERR at least 1 input key is needed for 'zunion' command")
	zsetErr(t, rdb.Do(ctx, "ZUNIONSTORE", "o", 3, "u1").Err(), "ERR syntax error")
	zsetErr(t, rdb.Do(ctx, "ZINTER", 2, "u1", "u2", "WEIGHTS", 1, "x").Err(), "ERR weight value is not a float")
	zsetErr(t, rdb.Do(ctx, "ZINTERCARD", 1, "u1", "LIMIT", -1).Err(), "ERR LIMIT can't be negative")
	ok(t, rdb.Set(ctx, "str", "v", 0))
	zsetErr(t, rdb.ZUnion(ctx, redis.ZStore{Keys: []string{"u1", "str"}}).Err(), "WRONGTYPE")
}

func zsetGoRedisPop(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.Del(ctx, "p"))
	ok(t, rdb.ZAdd(ctx, "p", zs("a", 1, "b", 2, "c", 3, "d", 4, "e", 5)...))
	eqZ(t, "ZPOPMIN", ok(t, rdb.ZPopMin(ctx, "p")).Val(), zs("a", 1))
	eqZ(t, "ZPOPMAX 2", ok(t, rdb.ZPopMax(ctx, "p", 2)).Val(), zs("e", 5, "d", 4))
	key, got := ok(t, rdb.ZMPop(ctx, "min", 5, "nokey", "p")).Val()
	eq(t, "ZMPOP key", key, "p")
	eqZ(t, "ZMPOP", got, zs("b", 2, "c", 3))
	eq(t, "popped empty", ok(t, rdb.Exists(ctx, "p")).Val(), int64(0))
	if err := rdb.ZMPop(ctx, "max", 1, "p").Err(); err != redis.Nil {
		t.Fatalf("ZMPOP on nothing: %v", err)
	}
	eq(t, "ZPOPMIN missing", len(ok(t, rdb.ZPopMin(ctx, "p")).Val()), 0)
	zsetErr(t, rdb.Do(ctx, "ZPOPMIN", "p", -1).Err(), "ERR value is out of range, must be positive")
	zsetErr(t, rdb.Do(ctx, "ZMPOP", 0, "p", "MIN").Err(), "ERR numkeys should be greater than 0")
	zsetErr(t, rdb.Do(ctx, "ZMPOP", 1, "p", "MIN", "COUNT", 0).Err(), "ERR count should be greater than 0")
	// Blocking forms with data at hand.
	ok(t, rdb.ZAdd(ctx, "bp", zs("x", 1, "y", 2, "z", 3)...))
	kz := ok(t, rdb.BZPopMin(ctx, time.Second, "nokey", "bp")).Val()
	if kz.Key != "bp" || kz.Member != "x" || kz.Score != 1 {
		t.Fatalf("BZPOPMIN = %+v", kz)
	}
	kz = ok(t, rdb.BZPopMax(ctx, time.Second, "bp")).Val()
	if kz.Key != "bp" || kz.Member != "z" || kz.Score != 3 {
		t.Fatalf("BZPOPMAX = %+v", kz)
	}
	key, got = ok(t, rdb.BZMPop(ctx, time.Second, "max", 10, "bp")).Val()
	eq(t, "BZMPOP key", key, "bp")
	eqZ(t, "BZMPOP", got, zs("y", 2))
	// Nothing there: the timeout gives a nil reply.
	start := time.Now()
	if err := rdb.Do(ctx, "BZPOPMIN", "bp", "0.1").Err(); err != redis.Nil {
		t.Fatalf("BZPOPMIN timeout: %v", err)
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Fatalf("BZPOPMIN returned after %v, before its timeout", d)
	}
	zsetErr(t, rdb.Do(ctx, "BZPOPMIN", "bp", "x").Err(), "ERR timeout is not a float or out of range")
	zsetErr(t, rdb.Do(ctx, "BZPOPMIN", "bp", "-1").Err(), "ERR timeout is negative")
}

func zsetGoRedisRandom(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.Del(ctx, "rnd"))
	members := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	var z []redis.Z
	for i, m := range members {
		z = append(z, redis.Z{Member: m, Score: float64(i)})
	}
	ok(t, rdb.ZAdd(ctx, "rnd", z...))
	if m := ok(t, rdb.ZRandMember(ctx, "rnd", 1)).Val(); len(m) != 1 || !slices.Contains(members, m[0]) {
		t.Fatalf("ZRANDMEMBER 1 = %v", m)
	}
	for _, n := range []int{2, 4, 9, 10, 20} {
		got := ok(t, rdb.ZRandMember(ctx, "rnd", n)).Val()
		if len(got) != min(n, 10) {
			t.Fatalf("ZRANDMEMBER %d gave %d", n, len(got))
		}
		seen := map[string]bool{}
		for _, m := range got {
			if seen[m] || !slices.Contains(members, m) {
				t.Fatalf("ZRANDMEMBER %d = %v: repeated or unknown member", n, got)
			}
			seen[m] = true
		}
	}
	got := ok(t, rdb.ZRandMember(ctx, "rnd", -30)).Val()
	if len(got) != 30 {
		t.Fatalf("ZRANDMEMBER -30 gave %d", len(got))
	}
	ws := ok(t, rdb.ZRandMemberWithScores(ctx, "rnd", 5)).Val()
	for _, w := range ws {
		if members[int(w.Score)] != w.Member {
			t.Fatalf("ZRANDMEMBER WITHSCORES pair %v", w)
		}
	}
	eq(t, "ZRANDMEMBER missing", len(ok(t, rdb.ZRandMember(ctx, "nokey", 3)).Val()), 0)
	zsetErr(t, rdb.Do(ctx, "ZRANDMEMBER", "rnd", "-9223372036854770000", "WITHSCORES").Err(), "ERR value is out of range")
}

func zsetGoRedisScan(t *testing.T, rdb *redis.Client) {
	for _, n := range []int{10, 1000} {
		key := fmt.Sprintf("scan%d", n)
		ok(t, rdb.Del(ctx, key))
		var z []redis.Z
		for i := 0; i < n; i++ {
			z = append(z, redis.Z{Member: fmt.Sprintf("m%d", i), Score: float64(i) + 0.5})
		}
		ok(t, rdb.ZAdd(ctx, key, z...))
		seen := map[string]string{}
		var cursor uint64
		for {
			keys, next := ok(t, rdb.ZScan(ctx, key, cursor, "", 100)).Val()
			for i := 0; i+1 < len(keys); i += 2 {
				seen[keys[i]] = keys[i+1]
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		if len(seen) != n || seen["m3"] != "3.5" {
			t.Fatalf("ZSCAN of %d members saw %d (m3=%q)", n, len(seen), seen["m3"])
		}
		want := 0
		for m := range seen {
			if strings.HasPrefix(m, "m1") {
				want++
			}
		}
		matched := 0
		cursor = 0
		for {
			keys, next := ok(t, rdb.ZScan(ctx, key, cursor, "m1*", 100)).Val()
			for i := 0; i < len(keys); i += 2 {
				if !strings.HasPrefix(keys[i], "m1") {
					t.Fatalf("ZSCAN MATCH m1* gave %q", keys[i])
				}
				matched++
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		if matched != want {
			t.Fatalf("ZSCAN MATCH m1* saw %d, want %d", matched, want)
		}
	}
}

func zsetGoRedisEncoding(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.Del(ctx, "e"))
	ok(t, rdb.ZAdd(ctx, "e", zs("a", 1)...))
	eq(t, "small", ok(t, rdb.ObjectEncoding(ctx, "e")).Val(), "listpack")
	ok(t, rdb.ZAdd(ctx, "e", redis.Z{Member: strings.Repeat("x", 65), Score: 2}))
	eq(t, "long member", ok(t, rdb.ObjectEncoding(ctx, "e")).Val(), "skiplist")
	ok(t, rdb.ConfigSet(ctx, "zset-max-listpack-entries", "3"))
	defer rdb.ConfigSet(ctx, "zset-max-listpack-entries", "128")
	eq(t, "CONFIG GET", fmt.Sprint(ok(t, rdb.ConfigGet(ctx, "zset-max-listpack-entries")).Val()), "map[zset-max-listpack-entries:3]")
	ok(t, rdb.Del(ctx, "e"))
	ok(t, rdb.ZAdd(ctx, "e", zs("a", 1, "b", 2, "c", 3)...))
	eq(t, "3 entries", ok(t, rdb.ObjectEncoding(ctx, "e")).Val(), "listpack")
	ok(t, rdb.ZAdd(ctx, "e", zs("d", 4)...))
	eq(t, "4 entries", ok(t, rdb.ObjectEncoding(ctx, "e")).Val(), "skiplist")
	eq(t, "COPY", ok(t, rdb.Copy(ctx, "e", "e2", 0, false)).Val(), int64(1))
	eq(t, "COPY encoding", ok(t, rdb.ObjectEncoding(ctx, "e2")).Val(), "skiplist")
	eqZ(t, "COPY content", ok(t, rdb.ZRangeWithScores(ctx, "e2", 0, -1)).Val(), zs("a", 1, "b", 2, "c", 3, "d", 4))
	ok(t, rdb.ZAdd(ctx, "e", zs("z", 9)...))
	eq(t, "copy is independent", ok(t, rdb.ZCard(ctx, "e2")).Val(), int64(4))
	if mem := ok(t, rdb.MemoryUsage(ctx, "e")).Val(); mem < 100 {
		t.Fatalf("MEMORY USAGE = %d", mem)
	}
}

func zsetGoRedisPipeline(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.Del(ctx, "pl"))
	cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, "pl", zs("a", 1, "b", 2)...)
		p.ZIncrBy(ctx, "pl", 5, "a")
		p.ZRangeWithScores(ctx, "pl", 0, -1)
		p.ZPopMin(ctx, "pl")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eqZ(t, "pipelined ZRANGE", cmds[2].(*redis.ZSliceCmd).Val(), zs("b", 2, "a", 6))
	eqZ(t, "pipelined ZPOPMIN", cmds[3].(*redis.ZSliceCmd).Val(), zs("b", 2))
	_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, "pl", zs("c", 3)...)
		p.ZUnionStore(ctx, "pl2", &redis.ZStore{Keys: []string{"pl"}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eqZ(t, "after MULTI", ok(t, rdb.ZRangeWithScores(ctx, "pl2", 0, -1)).Val(), zs("c", 3, "a", 6))
	// WATCH is invalidated by a sorted-set write.
	other := redis.NewClient(&redis.Options{Addr: rdb.Options().Addr, Protocol: rdb.Options().Protocol})
	defer other.Close()
	err = rdb.Watch(ctx, func(tx *redis.Tx) error {
		ok(t, other.ZAdd(ctx, "pl", zs("d", 4)...))
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.ZRem(ctx, "pl", "a")
			return nil
		})
		return err
	}, "pl")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("WATCH after ZADD by another client: %v", err)
	}
}

// TestZSetBlocking covers BZPOPMIN/BZPOPMAX/BZMPOP waiting for data:
// wake-up by ZADD and by ZUNIONSTORE, the order of waiting clients, keys
// that are not sorted sets, and blocking inside MULTI.
func TestZSetBlocking(t *testing.T) {
	_, addr := startCached(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp=%d", proto), func(t *testing.T) {
			rdb := newClient(t, addr, proto)
			ok(t, rdb.FlushAll(ctx))
			waitBlocked := func(n int) {
				t.Helper()
				deadline := time.Now().Add(5 * time.Second)
				for time.Now().Before(deadline) {
					info := ok(t, rdb.Info(ctx, "clients")).Val()
					if strings.Contains(info, fmt.Sprintf("blocked_clients:%d\r\n", n)) {
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
				t.Fatalf("%d clients never blocked", n)
			}

			// Wake-up by ZADD.
			done := make(chan *redis.ZWithKey, 1)
			go func() {
				c := newClient(t, addr, proto)
				done <- c.BZPopMin(ctx, 5*time.Second, "k1", "k2").Val()
			}()
			waitBlocked(1)
			ok(t, rdb.ZAdd(ctx, "k2", zs("m", 7)...))
			if got := <-done; got == nil || got.Key != "k2" || got.Member != "m" || got.Score != 7 {
				t.Fatalf("woken BZPOPMIN = %+v", got)
			}
			eq(t, "popped key gone", ok(t, rdb.Exists(ctx, "k2")).Val(), int64(0))

			// Two waiters are served in the order they blocked; one ZADD of
			// three members serves both (and leaves one).
			var wg sync.WaitGroup
			results := make([]string, 2)
			for i := 0; i < 2; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					c := newClient(t, addr, proto)
					_, z := c.BZMPop(ctx, 5*time.Second, "max", 1, "q").Val()
					results[i] = fmt.Sprint(z)
				}(i)
				waitBlocked(i + 1)
			}
			ok(t, rdb.ZAdd(ctx, "q", zs("a", 1, "b", 2, "c", 3)...))
			wg.Wait()
			if results[0] != "[{3 c}]" || results[1] != "[{2 b}]" {
				t.Fatalf("BZMPOP waiters got %v", results)
			}
			eqZ(t, "left over", ok(t, rdb.ZRangeWithScores(ctx, "q", 0, -1)).Val(), zs("a", 1))

			// Wake-up by a store command.
			go func() {
				c := newClient(t, addr, proto)
				done <- c.BZPopMax(ctx, 5*time.Second, "dst").Val()
			}()
			waitBlocked(1)
			ok(t, rdb.ZUnionStore(ctx, "dst", &redis.ZStore{Keys: []string{"q"}}))
			if got := <-done; got == nil || got.Key != "dst" || got.Member != "a" {
				t.Fatalf("BZPOPMAX woken by ZUNIONSTORE = %+v", got)
			}

			// Woken by a key that then holds another type, a client keeps
			// waiting (Redis ignores it) instead of failing.
			go func() {
				c := newClient(t, addr, proto)
				done <- c.BZPopMin(ctx, 5*time.Second, "w", "w").Val()
			}()
			waitBlocked(1)
			if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.ZAdd(ctx, "w", zs("foo", 0)...)
				p.Del(ctx, "w")
				p.Set(ctx, "w", "string", 0)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			ok(t, rdb.Del(ctx, "w"))
			ok(t, rdb.ZAdd(ctx, "w", zs("bar", 1)...))
			if got := <-done; got == nil || got.Member != "bar" {
				t.Fatalf("BZPOPMIN after a type change = %+v", got)
			}

			// A key holding another type is an error, not a wait.
			ok(t, rdb.Set(ctx, "str", "v", 0))
			zsetErr(t, rdb.BZPopMin(ctx, time.Second, "str").Err(), "WRONGTYPE")

			// Inside MULTI nothing blocks: the reply is a null array.
			cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.BZPopMin(ctx, 0, "nothing")
				return nil
			})
			if !errors.Is(err, redis.Nil) || cmds[0].Err() != redis.Nil {
				t.Fatalf("BZPOPMIN in MULTI: %v / %v", err, cmds[0].Err())
			}
		})
	}
}

// TestZSetRESP3Shapes checks the exact reply types go-redis sees in RESP3
// (doubles, nested pairs) against RESP2 (bulk strings, flat arrays).
func TestZSetRESP3Shapes(t *testing.T) {
	_, addr := startCached(t, nil)
	r2, r3 := newClient(t, addr, 2), newClient(t, addr, 3)
	ok(t, r2.ZAdd(ctx, "z", zs("a", 1.5, "b", 2)...))
	v2 := ok(t, r2.Do(ctx, "ZRANGE", "z", 0, -1, "WITHSCORES")).Val()
	v3 := ok(t, r3.Do(ctx, "ZRANGE", "z", 0, -1, "WITHSCORES")).Val()
	eq(t, "RESP2 flat", fmt.Sprint(v2), "[a 1.5 b 2]")
	eq(t, "RESP3 pairs with doubles", fmt.Sprint(v3), "[[a 1.5] [b 2]]")
	eq(t, "RESP3 ZSCORE is a double", fmt.Sprintf("%T", ok(t, r3.Do(ctx, "ZSCORE", "z", "a")).Val()), "float64")
	eq(t, "RESP2 ZSCORE is a string", fmt.Sprintf("%T", ok(t, r2.Do(ctx, "ZSCORE", "z", "a")).Val()), "string")
	p2 := ok(t, r2.Do(ctx, "ZPOPMIN", "z", 1)).Val()
	eq(t, "RESP2 ZPOPMIN count", fmt.Sprint(p2), "[a 1.5]")
	p3 := ok(t, r3.Do(ctx, "ZPOPMIN", "z", 1)).Val()
	eq(t, "RESP3 ZPOPMIN count", fmt.Sprint(p3), "[[b 2]]")
	ok(t, r2.ZAdd(ctx, "z", zs("a", 1.5)...))
	eq(t, "RESP3 ZPOPMIN single stays flat", fmt.Sprint(ok(t, r3.Do(ctx, "ZPOPMIN", "z")).Val()), "[a 1.5]")
	// COMMAND GETKEYSANDFLAGS knows the movable keys.
	eq(t, "GETKEYS", fmt.Sprint(ok(t, r2.Do(ctx, "COMMAND", "GETKEYS", "ZUNIONSTORE", "d", 2, "a", "b", "WEIGHTS", 1, 2)).Val()), "[d a b]")
	eq(t, "GETKEYSANDFLAGS", fmt.Sprint(ok(t, r2.Do(ctx, "COMMAND", "GETKEYSANDFLAGS", "ZRANGESTORE", "d", "s", 0, -1)).Val()), "[[d [OW update]] [s [RO access]]]")
	got := ok(t, r2.Do(ctx, "COMMAND", "GETKEYS", "GEORADIUS", "src", 1, 2, 3, "km", "STORE", "dst")).Val()
	eq(t, "GEORADIUS STORE keys", fmt.Sprint(got), "[src dst]")
}

// TestZSetConcurrent hammers one set from several clients (run with
// -race) and checks the result against the arithmetic.
func TestZSetConcurrent(t *testing.T) {
	_, addr := startCached(t, nil)
	const clients, ops = 4, 300
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := newClient(t, addr, 2+i%2)
			for j := 0; j < ops; j++ {
				m := fmt.Sprintf("m%d", j%50)
				c.ZIncrBy(ctx, "hot", 1, m)
				c.ZRangeWithScores(ctx, "hot", 0, 10)
				c.ZRank(ctx, "hot", m)
				if j%10 == 0 {
					c.ZUnionStore(ctx, fmt.Sprintf("copy%d", i), &redis.ZStore{Keys: []string{"hot"}})
				}
			}
		}(i)
	}
	wg.Wait()
	rdb := newClient(t, addr, 2)
	all := ok(t, rdb.ZRangeWithScores(ctx, "hot", 0, -1)).Val()
	total := 0.0
	for _, z := range all {
		total += z.Score
	}
	if len(all) != 50 || total != clients*ops {
		t.Fatalf("%d members summing to %v, want 50 and %d", len(all), total, clients*ops)
	}
	if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Score < all[j].Score }) {
		t.Fatal("ZRANGE not in score order")
	}
}

// TestZSetMemoryAndEviction checks that sorted sets are accounted for
// (MEMORY USAGE grows with the set, used_memory follows) and evicted
// under maxmemory like any key.
func TestZSetMemoryAndEviction(t *testing.T) {
	_, addr := startCached(t, nil)
	rdb := newClient(t, addr, 2)
	infoInt := func(section, field string) int64 {
		t.Helper()
		for _, line := range strings.Split(ok(t, rdb.Info(ctx, section)).Val(), "\r\n") {
			if v, found := strings.CutPrefix(line, field+":"); found {
				var n int64
				fmt.Sscan(v, &n)
				return n
			}
		}
		t.Fatalf("INFO %s has no %s", section, field)
		return 0
	}
	var z []redis.Z
	for i := 0; i < 1000; i++ {
		z = append(z, redis.Z{Member: fmt.Sprintf("member:%06d", i), Score: float64(i)})
	}
	ok(t, rdb.ZAdd(ctx, "m", z[:100]...))
	small := ok(t, rdb.MemoryUsage(ctx, "m")).Val()
	ok(t, rdb.ZAdd(ctx, "m", z...))
	large := ok(t, rdb.MemoryUsage(ctx, "m")).Val()
	// 1000 members of 13 bytes in a skiplist: node, string, map slot and
	// node slice entry are about 150 bytes each.
	if small < 100*13 || large < 1000*100 || large > 1000*300 {
		t.Fatalf("MEMORY USAGE: 100 members %d bytes, 1000 members %d bytes", small, large)
	}
	ok(t, rdb.ZRemRangeByRank(ctx, "m", 0, 899))
	if after := ok(t, rdb.MemoryUsage(ctx, "m")).Val(); after >= large {
		t.Fatalf("MEMORY USAGE after removing 900 of 1000 members: %d (was %d)", after, large)
	}

	ok(t, rdb.FlushAll(ctx))
	const limit = 4 << 20
	ok(t, rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru"))
	ok(t, rdb.ConfigSet(ctx, "maxmemory", fmt.Sprint(limit)))
	defer rdb.ConfigSet(ctx, "maxmemory", "0")
	for k := 0; k < 200; k++ {
		ok(t, rdb.ZAdd(ctx, fmt.Sprintf("zset:%d", k), z[:500]...))
	}
	if used := infoInt("memory", "used_memory"); used > limit*11/10 {
		t.Fatalf("used_memory %d over maxmemory %d", used, limit)
	}
	if ev := infoInt("stats", "evicted_keys"); ev == 0 {
		t.Fatal("no sorted set was evicted")
	}
}

// TestZSetChangesCount checks that sorted-set and geo writes that change
// nothing do not count in rdb_changes_since_last_save, as in Redis.
func TestZSetChangesCount(t *testing.T) {
	_, addr := startCached(t, nil)
	rdb := newClient(t, addr, 2)
	changes := func() int64 {
		t.Helper()
		for _, line := range strings.Split(ok(t, rdb.Info(ctx, "persistence")).Val(), "\r\n") {
			if v, found := strings.CutPrefix(line, "rdb_changes_since_last_save:"); found {
				var n int64
				fmt.Sscan(v, &n)
				return n
			}
		}
		t.Fatal("no rdb_changes_since_last_save")
		return 0
	}
	ok(t, rdb.ZAdd(ctx, "z", zs("a", 1, "b", 2)...))
	ok(t, rdb.GeoAdd(ctx, "g", &redis.GeoLocation{Name: "p", Longitude: 13, Latitude: 38}))
	before := changes()
	for _, cmd := range [][]any{
		{"ZADD", "z", "1", "a"}, {"ZADD", "z", "XX", "5", "nosuch"}, {"ZADD", "nokey", "XX", "1", "a"},
		{"ZINCRBY", "z", "0", "a"}, {"ZREM", "z", "nosuch"}, {"ZREM", "nokey", "a"},
		{"ZREMRANGEBYSCORE", "z", "10", "20"}, {"ZREMRANGEBYRANK", "z", "5", "10"}, {"ZREMRANGEBYLEX", "nokey", "-", "+"},
		{"ZPOPMIN", "nokey"}, {"ZPOPMIN", "z", "0"}, {"ZMPOP", "1", "nokey", "MIN"},
		{"ZUNIONSTORE", "nodst", "1", "nokey"}, {"ZRANGESTORE", "nodst", "z", "5", "10"},
		{"GEOADD", "g", "13", "38", "p"}, {"GEORADIUS", "g", "13", "38", "10", "km"},
		{"GEOSEARCHSTORE", "nodst", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"},
		{"BZPOPMIN", "nokey", "0.01"},
	} {
		if err := rdb.Do(ctx, cmd...).Err(); err != nil && err != redis.Nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	if after := changes(); after != before {
		t.Fatalf("writes that changed nothing counted %d changes", after-before)
	}
	ok(t, rdb.ZAdd(ctx, "z", zs("c", 3)...))
	ok(t, rdb.ZRem(ctx, "z", "c"))
	if after := changes(); after != before+2 {
		t.Fatalf("two changes counted as %d", after-before)
	}
}

// TestZSetSnapshot saves sorted sets (both encodings, geo, a TTL, another
// database) with the snapshot on shutdown and loads them on restart.
func TestZSetSnapshot(t *testing.T) {
	dir := t.TempDir()
	addr, stop := runCached(t, dir, "3600 1")
	c := dialRaw(t, addr)
	c.do("ZADD", "small", "1", "a", "2.5", "b", "-inf", "c")
	for i := 0; i < 300; i++ {
		c.do("ZADD", "big", fmt.Sprint(i%7), fmt.Sprintf("m%03d", i))
	}
	c.do("GEOADD", "geo", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")
	c.do("EXPIRE", "small", "1000")
	c.do("SELECT", "3")
	c.do("ZADD", "in3", "0", strings.Repeat("x", 100))
	want := map[string]string{}
	c.do("SELECT", "0")
	for _, k := range []string{"small", "big", "geo"} {
		want[k] = c.do("ZRANGE", k, "0", "-1", "WITHSCORES")
	}
	stop()

	addr2, _ := runCached(t, dir, "")
	c2 := dialRaw(t, addr2)
	for k, v := range want {
		eq(t, k, c2.do("ZRANGE", k, "0", "-1", "WITHSCORES"), v)
	}
	eq(t, "small encoding", c2.do("OBJECT", "ENCODING", "small"), "$8\r\nlistpack\r\n")
	eq(t, "big encoding", c2.do("OBJECT", "ENCODING", "big"), "$8\r\nskiplist\r\n")
	eq(t, "GEODIST", c2.do("GEODIST", "geo", "Palermo", "Catania", "km"), "$8\r\n166.2742\r\n")
	var ttl int
	fmt.Sscanf(c2.do("TTL", "small"), ":%d", &ttl)
	if ttl < 990 || ttl > 1000 {
		t.Fatalf("TTL after restart %d", ttl)
	}
	c2.do("SELECT", "3")
	eq(t, "db 3", c2.do("ZCARD", "in3"), ":1\r\n")
	eq(t, "db 3 encoding", c2.do("OBJECT", "ENCODING", "in3"), "$8\r\nskiplist\r\n")
}

// TestZSetRandomDifferential runs a long random sequence of sorted-set
// and geo commands against cached and redis-server, with small encoding
// thresholds so that conversions happen often, and compares every reply
// byte for byte and the OBJECT ENCODING of the keys after every command.
// Lexicographic commands go to keys whose scores are all 0 (on mixed
// scores Redis's answer depends on its skiplist's random levels).
func TestZSetRandomDifferential(t *testing.T) {
	redisAddr := startRedis(t)
	_, cachedAddr := startCached(t, nil)
	for _, proto := range []string{"2", "3"} {
		t.Run("resp="+proto, func(t *testing.T) {
			ref, got := dialRaw(t, redisAddr), dialRaw(t, cachedAddr)
			for _, c := range []*rawConn{ref, got} {
				c.do("HELLO", proto)
				c.do("FLUSHALL")
				c.do("CONFIG", "SET", "zset-max-listpack-entries", "5", "zset-max-listpack-value", "6")
			}
			defer func() {
				for _, c := range []*rawConn{ref, got} {
					c.do("CONFIG", "SET", "zset-max-listpack-entries", "128", "zset-max-listpack-value", "64")
				}
			}()
			r := rand.New(rand.NewPCG(11, uint64(len(proto))))
			pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
			member := func() string {
				switch r.IntN(8) {
				case 0:
					return pick("a", "b", "c", "", "x y", "-1", "01")
				case 1:
					return strings.Repeat("m", 3+r.IntN(6))
				default:
					return strconv.Itoa(r.IntN(15))
				}
			}
			score := func() string {
				return pick("0", "1", "-1", "2.5", "1e3", "-inf", "+inf", "3", "7", "1.5", "0.1", strconv.Itoa(r.IntN(10)))
			}
			bound := func() string {
				s := score()
				if s == "-inf" || s == "+inf" {
					return s
				}
				return pick("", "(") + s
			}
			lexBound := func() string {
				return pick("-", "+", "[a", "(a", "[b", "(c", "[5", "(1", "[", "[m", "(mmm")
			}
			zkey := func() string { return pick("z1", "z2", "z3", "str", "nokey") }
			lkey := func() string { return pick("l1", "l2") }
			lon := func() string { return strconv.FormatFloat(-180+r.Float64()*360, 'f', 6, 64) }
			lat := func() string { return strconv.FormatFloat(-80+r.Float64()*160, 'f', 6, 64) }
			for i := 0; i < 4000; i++ {
				var args []string
				switch r.IntN(34) {
				case 0, 1, 2:
					args = []string{"ZADD", zkey()}
					for _, f := range []string{"NX", "XX", "GT", "LT", "CH", "INCR"} {
						if r.IntN(6) == 0 {
							args = append(args, f)
						}
					}
					for n := 1 + r.IntN(4); n > 0; n-- {
						args = append(args, score(), member())
					}
				case 3:
					args = []string{"ZINCRBY", zkey(), score(), member()}
				case 4:
					args = []string{"ZREM", zkey(), member(), member()}
				case 5:
					args = []string{pick("ZSCORE", "ZRANK", "ZREVRANK"), zkey(), member()}
				case 6:
					args = []string{"ZMSCORE", zkey(), member(), member()}
				case 7:
					args = []string{pick("ZCARD"), zkey()}
				case 8, 9:
					args = []string{"ZRANGE", zkey(), strconv.Itoa(r.IntN(12) - 6), strconv.Itoa(r.IntN(12) - 6)}
					if r.IntN(2) == 0 {
						args = append(args, "REV")
					}
					if r.IntN(2) == 0 {
						args = append(args, "WITHSCORES")
					}
				case 10, 11:
					args = []string{"ZRANGE", zkey(), bound(), bound(), "BYSCORE"}
					if r.IntN(2) == 0 {
						args = append(args, "REV")
					}
					if r.IntN(2) == 0 {
						args = append(args, "WITHSCORES")
					}
					if r.IntN(2) == 0 {
						args = append(args, "LIMIT", strconv.Itoa(r.IntN(5)-1), strconv.Itoa(r.IntN(6)-1))
					}
				case 12:
					args = []string{pick("ZRANGEBYSCORE", "ZREVRANGEBYSCORE"), zkey(), bound(), bound(), "WITHSCORES"}
				case 13:
					args = []string{"ZCOUNT", zkey(), bound(), bound()}
				case 14:
					args = []string{pick("ZREMRANGEBYSCORE"), zkey(), bound(), bound()}
				case 15:
					args = []string{"ZREMRANGEBYRANK", zkey(), strconv.Itoa(r.IntN(8) - 4), strconv.Itoa(r.IntN(8) - 4)}
				case 16:
					args = []string{pick("ZPOPMIN", "ZPOPMAX"), zkey(), strconv.Itoa(r.IntN(4))}
				case 17:
					args = []string{"ZMPOP", "2", zkey(), zkey(), pick("MIN", "MAX"), "COUNT", strconv.Itoa(1 + r.IntN(3))}
				case 18, 19:
					args = []string{pick("ZUNION", "ZINTER", "ZDIFF"), "2", zkey(), zkey(), "WITHSCORES"}
					if args[0] != "ZDIFF" && r.IntN(2) == 0 {
						args = append(args, "WEIGHTS", pick("1", "2", "-1", "0.5"), pick("1", "0", "3"), "AGGREGATE", pick("SUM", "MIN", "MAX"))
					}
				case 20:
					args = []string{pick("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"), pick("z1", "z2", "dst"), "2", zkey(), zkey()}
				case 21:
					args = []string{"ZINTERCARD", "2", zkey(), zkey(), "LIMIT", pick("0", "1", "2")}
				case 22:
					args = []string{"ZRANGESTORE", pick("dst", "z3"), zkey(), strconv.Itoa(r.IntN(6) - 2), strconv.Itoa(r.IntN(6))}
				case 23:
					args = []string{"ZADD", lkey(), "0", member(), "0", member()}
				case 24, 25:
					args = []string{pick("ZRANGEBYLEX", "ZREVRANGEBYLEX"), lkey(), lexBound(), lexBound()}
					if r.IntN(2) == 0 {
						args = append(args, "LIMIT", strconv.Itoa(r.IntN(4)-1), strconv.Itoa(r.IntN(5)-1))
					}
				case 26:
					args = []string{pick("ZLEXCOUNT", "ZREMRANGEBYLEX"), lkey(), lexBound(), lexBound()}
				case 27:
					args = []string{"ZRANGE", lkey(), lexBound(), lexBound(), "BYLEX", pick("REV", "LIMIT")}
					if args[len(args)-1] == "LIMIT" {
						args = append(args, "0", "3")
					}
				case 28:
					args = []string{"GEOADD", pick("g1", "g2"), lon(), lat(), member(), lon(), lat(), member()}
				case 29:
					args = []string{"GEOSEARCH", pick("g1", "g2"), "FROMLONLAT", lon(), lat(), pick("BYRADIUS", "BYBOX"), "5000"}
					if args[6] == "BYBOX" {
						args = append(args, "8000")
					}
					args = append(args, pick("km", "mi"), pick("ASC", "DESC"), "WITHDIST", "WITHCOORD", "WITHHASH")
				case 30:
					args = []string{"GEOPOS", pick("g1", "g2"), member(), member()}
				case 31:
					args = []string{pick("GEODIST"), pick("g1", "g2"), member(), member(), pick("km", "m")}
				case 32:
					args = []string{"GEOHASH", pick("g1", "g2"), member()}
				case 33:
					args = []string{pick("DEL", "EXPIRE"), pick("z1", "z2", "z3", "l1", "dst", "g1"), "100"}
					if args[0] == "DEL" {
						args = args[:2]
					}
				}
				if want, have := ref.do(args...), got.do(args...); want != have {
					t.Fatalf("op %d %q\n redis:  %s\n cached: %s", i, args, quote(want), quote(have))
				}
				for _, k := range []string{args[1], "dst", "z3"} {
					if w, h := ref.do("OBJECT", "ENCODING", k), got.do("OBJECT", "ENCODING", k); w != h {
						t.Fatalf("op %d %q: OBJECT ENCODING %s: redis %q, cached %q", i, args, k, w, h)
					}
				}
			}
			for _, k := range []string{"z1", "z2", "z3", "dst", "l1", "l2", "g1", "g2"} {
				if w, h := ref.do("ZRANGE", k, "0", "-1", "WITHSCORES"), got.do("ZRANGE", k, "0", "-1", "WITHSCORES"); w != h {
					t.Fatalf("final %s: redis %s, cached %s", k, quote(w), quote(h))
				}
			}
		})
	}
}
