package cached_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/anvilstack/anvil/pkg/resp"
)

// The set family through go-redis, in RESP2 and RESP3.
func TestSetGoRedis(t *testing.T) {
	_, addr := startCached(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp=%d", proto), func(t *testing.T) {
			rdb := newClient(t, addr, proto)
			ok(t, rdb.FlushAll(ctx))
			t.Run("basics", func(t *testing.T) { goRedisSetBasics(t, rdb) })
			t.Run("random", func(t *testing.T) { goRedisSetRandom(t, rdb) })
			t.Run("move", func(t *testing.T) { goRedisSetMove(t, rdb) })
			t.Run("algebra", func(t *testing.T) { goRedisSetAlgebra(t, rdb, addr, proto) })
			t.Run("scan", func(t *testing.T) { goRedisSetScan(t, rdb) })
			t.Run("encoding", func(t *testing.T) { goRedisSetEncoding(t, rdb) })
		})
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func eqStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(sorted(got), sorted(want)) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func goRedisSetBasics(t *testing.T, rdb *redis.Client) {
	eq(t, "SADD", ok(t, rdb.SAdd(ctx, "s", "a", "b", "c", "a")).Val(), int64(3))
	eq(t, "SADD again", ok(t, rdb.SAdd(ctx, "s", "a", "d")).Val(), int64(1))
	eq(t, "SCARD", ok(t, rdb.SCard(ctx, "s")).Val(), int64(4))
	eq(t, "SISMEMBER", ok(t, rdb.SIsMember(ctx, "s", "b")).Val(), true)
	eq(t, "SISMEMBER no", ok(t, rdb.SIsMember(ctx, "s", "z")).Val(), false)
	if got := ok(t, rdb.SMIsMember(ctx, "s", "a", "z", "d")).Val(); !slices.Equal(got, []bool{true, false, true}) {
		t.Fatalf("SMISMEMBER = %v", got)
	}
	eqStrings(t, "SMEMBERS", ok(t, rdb.SMembers(ctx, "s")).Val(), []string{"a", "b", "c", "d"})
	if m := ok(t, rdb.SMembersMap(ctx, "s")).Val(); len(m) != 4 {
		t.Fatalf("SMEMBERS map %v", m)
	}
	eq(t, "SREM", ok(t, rdb.SRem(ctx, "s", "a", "z")).Val(), int64(1))
	eq(t, "SMEMBERS missing", len(ok(t, rdb.SMembers(ctx, "nokey")).Val()), 0)
	eq(t, "SCARD missing", ok(t, rdb.SCard(ctx, "nokey")).Val(), int64(0))
	eq(t, "SREM all", ok(t, rdb.SRem(ctx, "s", "b", "c", "d")).Val(), int64(3))
	eq(t, "EXISTS after emptying", ok(t, rdb.Exists(ctx, "s")).Val(), int64(0))
	// Intsets reply in order.
	ok(t, rdb.SAdd(ctx, "is", 5, 3, -1, 10))
	eq(t, "intset SMEMBERS", fmt.Sprint(ok(t, rdb.SMembers(ctx, "is")).Val()), "[-1 3 5 10]")
	eq(t, "TYPE", ok(t, rdb.Type(ctx, "is")).Val(), "set")
	ok(t, rdb.Set(ctx, "str", "x", 0))
	wantErr(t, rdb.SAdd(ctx, "str", "a").Err(), "WRONGTYPE")
	wantErr(t, rdb.SMembers(ctx, "str").Err(), "WRONGTYPE")
	wantErr(t, rdb.SInter(ctx, "is", "str").Err(), "WRONGTYPE")
	wantErr(t, rdb.Do(ctx, "SADD", "s").Err(), "ERR wrong number of arguments for 'sadd' command")
}

func goRedisSetRandom(t *testing.T, rdb *redis.Client) {
	members := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	ok(t, rdb.SAdd(ctx, "r", members))
	if m := ok(t, rdb.SRandMember(ctx, "r")).Val(); !slices.Contains(members, m) {
		t.Fatalf("SRANDMEMBER = %q", m)
	}
	for _, n := range []int64{1, 3, 9, 10, 50} {
		got := ok(t, rdb.SRandMemberN(ctx, "r", n)).Val()
		if len(got) != int(min(n, 10)) || len(slices.Compact(sorted(got))) != len(got) {
			t.Fatalf("SRANDMEMBER %d = %v", n, got)
		}
	}
	got := ok(t, rdb.SRandMemberN(ctx, "r", -500)).Val()
	if len(got) != 500 || len(slices.Compact(sorted(got))) != 10 {
		t.Fatalf("SRANDMEMBER -500: %d members, %d distinct", len(got), len(slices.Compact(sorted(got))))
	}
	wantErr(t, rdb.Do(ctx, "SRANDMEMBER", "r", "-9223372036854775808").Err(), "ERR value is out of range")
	wantErr(t, rdb.Do(ctx, "SRANDMEMBER", "r", "-9223372036854775807").Err(), "ERR value is out of range")
	if err := rdb.SRandMember(ctx, "nokey").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("SRANDMEMBER missing: %v", err)
	}
	popped := []string{ok(t, rdb.SPop(ctx, "r")).Val()}
	popped = append(popped, ok(t, rdb.SPopN(ctx, "r", 4)).Val()...)
	popped = append(popped, ok(t, rdb.SPopN(ctx, "r", 0)).Val()...)
	eq(t, "SCARD after popping 5", ok(t, rdb.SCard(ctx, "r")).Val(), int64(5))
	popped = append(popped, ok(t, rdb.SPopN(ctx, "r", 100)).Val()...)
	eqStrings(t, "popped", popped, members)
	eq(t, "EXISTS after popping all", ok(t, rdb.Exists(ctx, "r")).Val(), int64(0))
	if err := rdb.SPop(ctx, "r").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("SPOP missing: %v", err)
	}
	wantErr(t, rdb.Do(ctx, "SPOP", "r", "-1").Err(), "ERR value is out of range, must be positive")
	// SPOP of an intset, each count strategy.
	for _, n := range []int64{2, 18, 19} {
		ok(t, rdb.Del(ctx, "ip"))
		for i := 1; i <= 20; i++ {
			ok(t, rdb.SAdd(ctx, "ip", i))
		}
		got := ok(t, rdb.SPopN(ctx, "ip", n)).Val()
		rest := ok(t, rdb.SMembers(ctx, "ip")).Val()
		if len(got) != int(n) || len(rest) != 20-int(n) {
			t.Fatalf("SPOP %d: %d popped, %d left", n, len(got), len(rest))
		}
		all := append(got, rest...)
		if len(slices.Compact(sorted(all))) != 20 {
			t.Fatalf("SPOP %d: popped %v, left %v", n, got, rest)
		}
	}
}

func goRedisSetMove(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.SAdd(ctx, "m1", "1", "a", "b"))
	ok(t, rdb.SAdd(ctx, "m2", "2", "3"))
	eq(t, "SMOVE", ok(t, rdb.SMove(ctx, "m1", "m2", "a")).Val(), true)
	eqStrings(t, "src", ok(t, rdb.SMembers(ctx, "m1")).Val(), []string{"1", "b"})
	eqStrings(t, "dst", ok(t, rdb.SMembers(ctx, "m2")).Val(), []string{"2", "3", "a"})
	eq(t, "dst encoding", ok(t, rdb.ObjectEncoding(ctx, "m2")).Val(), "hashtable")
	eq(t, "SMOVE missing member", ok(t, rdb.SMove(ctx, "m1", "m2", "zz")).Val(), false)
	eq(t, "SMOVE same key", ok(t, rdb.SMove(ctx, "m1", "m1", "b")).Val(), true)
	eq(t, "SMOVE to new", ok(t, rdb.SMove(ctx, "m1", "m3", "1")).Val(), true)
	eq(t, "new dst encoding", ok(t, rdb.ObjectEncoding(ctx, "m3")).Val(), "intset")
	eq(t, "SMOVE last", ok(t, rdb.SMove(ctx, "m1", "m3", "b")).Val(), true)
	eq(t, "src gone", ok(t, rdb.Exists(ctx, "m1")).Val(), int64(0))
	ok(t, rdb.Set(ctx, "str", "x", 0))
	wantErr(t, rdb.SMove(ctx, "m2", "str", "2").Err(), "WRONGTYPE")
	eq(t, "SMOVE from missing to wrong type", ok(t, rdb.SMove(ctx, "nokey", "str", "2")).Val(), false)
	// The destination changes (for WATCH) only when the member is added.
	ok(t, rdb.SAdd(ctx, "src", "a", "b"))
	ok(t, rdb.SAdd(ctx, "dst", "a"))
	err := rdb.Watch(ctx, func(tx *redis.Tx) error {
		ok(t, rdb.SMove(ctx, "src", "dst", "a")) // already in dst
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.SAdd(ctx, "dst", "c")
			return nil
		})
		return err
	}, "dst")
	if err != nil {
		t.Fatalf("WATCH dst, SMOVE of a member dst had: %v", err)
	}
	eq(t, "SCARD dst", ok(t, rdb.SCard(ctx, "dst")).Val(), int64(2))
	err = rdb.Watch(ctx, func(tx *redis.Tx) error {
		ok(t, rdb.SMove(ctx, "src", "dst", "b")) // a real addition
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.SAdd(ctx, "dst", "d")
			return nil
		})
		return err
	}, "dst")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("WATCH dst, SMOVE adding to dst: %v", err)
	}
}

func goRedisSetAlgebra(t *testing.T, rdb *redis.Client, addr string, proto int) {
	ok(t, rdb.Del(ctx, "a", "b", "c"))
	ok(t, rdb.SAdd(ctx, "a", 1, 2, 3, 4, "x"))
	ok(t, rdb.SAdd(ctx, "b", 3, 4, 5, "x"))
	ok(t, rdb.SAdd(ctx, "c", 4, 5, 6))
	eqStrings(t, "SINTER", ok(t, rdb.SInter(ctx, "a", "b")).Val(), []string{"3", "4", "x"})
	eqStrings(t, "SINTER 3", ok(t, rdb.SInter(ctx, "a", "b", "c")).Val(), []string{"4"})
	eq(t, "SINTER missing", len(ok(t, rdb.SInter(ctx, "a", "nokey")).Val()), 0)
	eq(t, "SINTERCARD", ok(t, rdb.SInterCard(ctx, 0, "a", "b")).Val(), int64(3))
	eq(t, "SINTERCARD LIMIT", ok(t, rdb.SInterCard(ctx, 2, "a", "b")).Val(), int64(2))
	wantErr(t, rdb.Do(ctx, "SINTERCARD", "0", "a").Err(), "ERR numkeys should be greater than 0")
	wantErr(t, rdb.Do(ctx, "SINTERCARD", "3", "a").Err(), "ERR Number of keys can't be greater than number of args")
	wantErr(t, rdb.Do(ctx, "SINTERCARD", "1", "a", "LIMIT", "-1").Err(), "ERR LIMIT can't be negative")
	eq(t, "SINTERSTORE", ok(t, rdb.SInterStore(ctx, "dst", "a", "b")).Val(), int64(3))
	eqStrings(t, "stored", ok(t, rdb.SMembers(ctx, "dst")).Val(), []string{"3", "4", "x"})
	eqStrings(t, "SUNION", ok(t, rdb.SUnion(ctx, "a", "b", "c", "nokey")).Val(), []string{"1", "2", "3", "4", "5", "6", "x"})
	eq(t, "SUNIONSTORE", ok(t, rdb.SUnionStore(ctx, "dst", "c", "nokey")).Val(), int64(3))
	eq(t, "union of ints is an intset", ok(t, rdb.ObjectEncoding(ctx, "dst")).Val(), "intset")
	eqStrings(t, "SDIFF", ok(t, rdb.SDiff(ctx, "a", "b", "c")).Val(), []string{"1", "2"})
	eq(t, "SDIFF self", len(ok(t, rdb.SDiff(ctx, "a", "a")).Val()), 0)
	eq(t, "SDIFFSTORE empty", ok(t, rdb.SDiffStore(ctx, "dst", "c", "a", "b")).Val(), int64(1))
	eq(t, "SDIFFSTORE nothing", ok(t, rdb.SDiffStore(ctx, "dst", "nokey", "a")).Val(), int64(0))
	eq(t, "dst deleted", ok(t, rdb.Exists(ctx, "dst")).Val(), int64(0))
	// SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a count reply sets in
	// RESP3, arrays in RESP2; SRANDMEMBER with a count an array in both.
	raw := dialRaw(t, addr)
	if proto == 3 {
		raw.do("HELLO", "3")
	}
	setHeader, intsetC := "*", "*3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n"
	if proto == 3 {
		setHeader = "~"
	}
	eq(t, "SMEMBERS", raw.do("SMEMBERS", "c"), setHeader+intsetC[1:])
	eq(t, "SINTER", raw.do("SINTER", "c", "c"), setHeader+intsetC[1:])
	eq(t, "SUNION", raw.do("SUNION", "c", "nokey"), setHeader+intsetC[1:])
	eq(t, "SDIFF", raw.do("SDIFF", "c", "nokey"), setHeader+intsetC[1:])
	eq(t, "SMEMBERS missing", raw.do("SMEMBERS", "nokey"), setHeader+"0\r\n")
	eq(t, "SRANDMEMBER 10", raw.do("SRANDMEMBER", "c", "10"), intsetC)
	eq(t, "SPOP missing", raw.do("SPOP", "nokey", "2"), setHeader+"0\r\n")
	eq(t, "SPOP all", raw.do("SPOP", "c", "5"), setHeader+intsetC[1:])
}

// goRedisSetScan checks SSCAN's guarantee while other clients change the
// set: every member present for the whole scan is returned.
func goRedisSetScan(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.Del(ctx, "ss"))
	ok(t, rdb.SAdd(ctx, "ss", "x"))
	for i := range 2000 {
		ok(t, rdb.SAdd(ctx, "ss", i))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// churn members >= 100; 0..99 stay
			m := 100 + (i*7919)%3000
			if i%2 == 0 {
				rdb.SRem(ctx, "ss", m)
			} else {
				rdb.SAdd(ctx, "ss", m)
			}
		}
	}()
	seen := map[string]bool{}
	var cursor uint64
	for {
		keys, next, err := rdb.SScan(ctx, "ss", cursor, "", 17).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			seen[k] = true
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	close(stop)
	wg.Wait()
	for i := range 100 {
		if !seen[strconv.Itoa(i)] {
			t.Fatalf("SSCAN under writes missed %d", i)
		}
	}
	keys, cur := ok(t, rdb.SScan(ctx, "ss", 0, "1?", 100000)).Val()
	if cur != 0 || len(keys) != 10 {
		t.Fatalf("SSCAN MATCH 1? = %v (cursor %d)", keys, cur)
	}
}

func goRedisSetEncoding(t *testing.T, rdb *redis.Client) {
	defer func() { ok(t, rdb.ConfigSet(ctx, "set-max-intset-entries", "512")) }()
	ok(t, rdb.Del(ctx, "e"))
	for i := range 512 {
		ok(t, rdb.SAdd(ctx, "e", i))
	}
	eq(t, "512 ints", ok(t, rdb.ObjectEncoding(ctx, "e")).Val(), "intset")
	ok(t, rdb.SAdd(ctx, "e", 512))
	eq(t, "513 ints", ok(t, rdb.ObjectEncoding(ctx, "e")).Val(), "hashtable")
	ok(t, rdb.ConfigSet(ctx, "set-max-intset-entries", "2"))
	ok(t, rdb.SAdd(ctx, "e2", 1, 2))
	eq(t, "2 ints", ok(t, rdb.ObjectEncoding(ctx, "e2")).Val(), "intset")
	ok(t, rdb.SAdd(ctx, "e2", 3))
	eq(t, "3 ints over 2", ok(t, rdb.ObjectEncoding(ctx, "e2")).Val(), "hashtable")
	eq(t, "COPY", ok(t, rdb.Copy(ctx, "e", "ecopy", 0, false)).Val(), int64(1))
	eq(t, "COPY keeps encoding", ok(t, rdb.ObjectEncoding(ctx, "ecopy")).Val(), "hashtable")
	eq(t, "copy SCARD", ok(t, rdb.SCard(ctx, "ecopy")).Val(), int64(513))
	if n := ok(t, rdb.MemoryUsage(ctx, "e")).Val(); n < 513*16 {
		t.Fatalf("MEMORY USAGE of 513 members = %d", n)
	}
}

// TestHashSetRandomDifferential runs a long random sequence of hash and
// set commands against cached and redis-server, with small encoding
// thresholds so that conversions happen often, and compares every reply
// (the elements of unordered replies sorted) and the OBJECT ENCODING of
// the key after every command.
func TestHashSetRandomDifferential(t *testing.T) {
	redisAddr := startRedis(t)
	_, cachedAddr := startCached(t, nil)
	for _, proto := range []string{"2", "3"} {
		t.Run("resp="+proto, func(t *testing.T) {
			ref, got := dialRaw(t, redisAddr), dialRaw(t, cachedAddr)
			for _, c := range []*rawConn{ref, got} {
				c.do("HELLO", proto)
				c.do("FLUSHALL")
				c.do("CONFIG", "SET", "hash-max-listpack-entries", "6", "hash-max-listpack-value", "12", "set-max-intset-entries", "6")
			}
			defer func() {
				for _, c := range []*rawConn{ref, got} {
					c.do("CONFIG", "SET", "hash-max-listpack-entries", "512", "hash-max-listpack-value", "64", "set-max-intset-entries", "512")
				}
			}()
			r := rand.New(rand.NewPCG(7, uint64(len(proto))))
			pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
			member := func() string {
				switch r.IntN(10) {
				case 0:
					return pick("a", "b", "c", "d", "-1", "01", "", "x y")
				case 1:
					return strings.Repeat("z", 5+r.IntN(20))
				default:
					return strconv.Itoa(r.IntN(12))
				}
			}
			hkey := func() string { return pick("h1", "h2", "str", "s1") }
			skey := func() string { return pick("s1", "s2", "s3", "str", "h1", "nokey") }
			for i := 0; i < 3000; i++ {
				var args []string
				unordered, pairs := false, false
				switch r.IntN(27) {
				case 0, 1:
					args = []string{"HSET", hkey(), member(), member(), member(), member()}
				case 2:
					args = []string{"HSETNX", hkey(), member(), member()}
				case 3:
					args = []string{"HGET", hkey(), member()}
				case 4:
					args = []string{"HMGET", hkey(), member(), member()}
				case 5:
					args = []string{"HDEL", hkey(), member(), member()}
				case 6:
					args = []string{"HINCRBY", hkey(), member(), pick("1", "-3", "100", "x")}
				case 7:
					args = []string{"HINCRBYFLOAT", hkey(), member(), pick("1.5", "-0.25", "3", "1e3")}
				case 8:
					args, unordered, pairs = []string{"HGETALL", hkey()}, true, true
				case 9:
					args, unordered = []string{pick("HKEYS", "HVALS"), hkey()}, true
				case 10:
					args = []string{pick("HLEN", "HSTRLEN", "HEXISTS"), hkey(), member()}
					if args[0] == "HLEN" {
						args = args[:2]
					}
				case 11, 12:
					args = []string{"SADD", skey(), member(), member(), member()}
				case 13:
					args = []string{"SREM", skey(), member(), member()}
				case 14:
					args = []string{pick("SISMEMBER", "SMISMEMBER"), skey(), member()}
				case 15:
					args, unordered = []string{"SMEMBERS", skey()}, true
				case 16:
					args, unordered = []string{pick("SINTER", "SUNION", "SDIFF"), skey(), skey(), skey()}, true
				case 17:
					args = []string{pick("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"), pick("s1", "s2", "s3", "dst"), skey(), skey()}
				case 18:
					args = []string{"SINTERCARD", "2", skey(), skey(), "LIMIT", pick("0", "1", "3")}
				case 19:
					args = []string{"SMOVE", skey(), skey(), member()}
				case 20:
					args = []string{"SCARD", skey()}
				case 21:
					args, unordered = []string{pick("SPOP", "SRANDMEMBER"), skey(), "100"}, true
				case 22:
					args, unordered = []string{"HRANDFIELD", hkey(), "100", "WITHVALUES"}, true
					pairs = proto == "2"
				case 23, 24, 25, 26:
					args = []string{pick("DEL", "DEL", "EXPIRE"), pick("h1", "h2", "s1", "s2", "s3"), "100"}
					if args[0] == "DEL" {
						args = args[:2]
					}
				}
				want, have := normalize(t, ref.do(args...), unordered, pairs), normalize(t, got.do(args...), unordered, pairs)
				if want != have {
					t.Fatalf("op %d %q\n redis:  %s\n cached: %s", i, args, want, have)
				}
				for _, k := range []string{args[1], "dst"} {
					if w, h := ref.do("OBJECT", "ENCODING", k), got.do("OBJECT", "ENCODING", k); w != h {
						t.Fatalf("op %d %q: OBJECT ENCODING %s: redis %q, cached %q", i, args, k, w, h)
					}
				}
			}
		})
	}
}

// normalize renders a reply for comparison: with unordered, the elements
// of an aggregate (pairs of them with pairs, for field/value replies) are
// sorted; a *SCAN-like reply is not expected here.
func normalize(t *testing.T, raw string, unordered, pairs bool) string {
	t.Helper()
	v, err := resp.NewReader(strings.NewReader(raw)).ReadValue()
	if err != nil {
		t.Fatalf("reply %q: %v", raw, err)
	}
	if !unordered || v.Elems == nil {
		return v.String()
	}
	var items []string
	step := 1
	if pairs || v.Kind == resp.KindMap {
		step = 2
	}
	for i := 0; i+step <= len(v.Elems); i += step {
		s := v.Elems[i].String()
		if step == 2 {
			s += "=" + v.Elems[i+1].String()
		}
		items = append(items, s)
	}
	sort.Strings(items)
	return string(v.Kind) + strconv.Itoa(len(v.Elems)) + "[" + strings.Join(items, " ") + "]"
}
