package cached_test

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The hash family through go-redis, in RESP2 and RESP3.
func TestHashGoRedis(t *testing.T) {
	_, addr := startCached(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp=%d", proto), func(t *testing.T) {
			rdb := newClient(t, addr, proto)
			ok(t, rdb.FlushAll(ctx))
			t.Run("basics", func(t *testing.T) { goRedisHashBasics(t, rdb) })
			t.Run("incr", func(t *testing.T) { goRedisHashIncr(t, rdb) })
			t.Run("random", func(t *testing.T) { goRedisHashRandom(t, rdb, proto) })
			t.Run("scan", func(t *testing.T) { goRedisHashScan(t, rdb) })
			t.Run("encoding", func(t *testing.T) { goRedisHashEncoding(t, rdb) })
			t.Run("keys", func(t *testing.T) { goRedisHashKeys(t, rdb) })
		})
	}
}

func wantErr(t *testing.T, err error, prefix string) {
	t.Helper()
	if err == nil || !strings.HasPrefix(err.Error(), prefix) {
		t.Fatalf("error %v, want %q...", err, prefix)
	}
}

func goRedisHashBasics(t *testing.T, rdb *redis.Client) {
	eq(t, "HSET", ok(t, rdb.HSet(ctx, "h", "a", "1", "b", "2", "c", "3")).Val(), int64(3))
	eq(t, "HSET update", ok(t, rdb.HSet(ctx, "h", "a", "one", "d", "4")).Val(), int64(1))
	eq(t, "HMSET", ok(t, rdb.HMSet(ctx, "h", "e", "5")).Val(), true)
	eq(t, "HGET", ok(t, rdb.HGet(ctx, "h", "a")).Val(), "one")
	if _, err := rdb.HGet(ctx, "h", "zz").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("HGET missing field: %v", err)
	}
	if _, err := rdb.HGet(ctx, "nokey", "a").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("HGET missing key: %v", err)
	}
	vals := ok(t, rdb.HMGet(ctx, "h", "a", "zz", "e")).Val()
	if len(vals) != 3 || vals[0] != "one" || vals[1] != nil || vals[2] != "5" {
		t.Fatalf("HMGET = %v", vals)
	}
	eq(t, "HLEN", ok(t, rdb.HLen(ctx, "h")).Val(), int64(5))
	eq(t, "HSTRLEN", ok(t, rdb.HStrLen(ctx, "h", "a")).Val(), int64(3))
	eq(t, "HEXISTS", ok(t, rdb.HExists(ctx, "h", "b")).Val(), true)
	eq(t, "HEXISTS missing", ok(t, rdb.HExists(ctx, "h", "zz")).Val(), false)
	eq(t, "HSETNX existing", ok(t, rdb.HSetNX(ctx, "h", "a", "x")).Val(), false)
	eq(t, "HSETNX new", ok(t, rdb.HSetNX(ctx, "h", "f", "6")).Val(), true)
	all := ok(t, rdb.HGetAll(ctx, "h")).Val()
	want := map[string]string{"a": "one", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6"}
	if fmt.Sprint(all) != fmt.Sprint(want) {
		t.Fatalf("HGETALL = %v", all)
	}
	// A small hash keeps insertion order, as Redis's listpack does.
	eq(t, "HKEYS", strings.Join(ok(t, rdb.HKeys(ctx, "h")).Val(), ","), "a,b,c,d,e,f")
	eq(t, "HVALS", strings.Join(ok(t, rdb.HVals(ctx, "h")).Val(), ","), "one,2,3,4,5,6")
	eq(t, "HDEL", ok(t, rdb.HDel(ctx, "h", "a", "zz", "b")).Val(), int64(2))
	eq(t, "HGETALL missing", len(ok(t, rdb.HGetAll(ctx, "nokey")).Val()), 0)
	eq(t, "HKEYS missing", len(ok(t, rdb.HKeys(ctx, "nokey")).Val()), 0)
	eq(t, "HDEL all", ok(t, rdb.HDel(ctx, "h", "c", "d", "e", "f")).Val(), int64(4))
	eq(t, "EXISTS after emptying", ok(t, rdb.Exists(ctx, "h")).Val(), int64(0))
	// Wrong type and arity.
	ok(t, rdb.Set(ctx, "str", "x", 0))
	wantErr(t, rdb.HSet(ctx, "str", "a", "b").Err(), "WRONGTYPE")
	wantErr(t, rdb.HGet(ctx, "str", "a").Err(), "WRONGTYPE")
	wantErr(t, rdb.HGetAll(ctx, "str").Err(), "WRONGTYPE")
	wantErr(t, rdb.Do(ctx, "HSET", "h", "a", "1", "b").Err(), "ERR wrong number of arguments for 'hset' command")
	wantErr(t, rdb.Do(ctx, "HMSET", "h", "a").Err(), "ERR wrong number of arguments for 'hmset' command")
	eq(t, "TYPE", ok(t, rdb.HSet(ctx, "h2", "x", "y")).Val(), int64(1))
	eq(t, "TYPE", ok(t, rdb.Type(ctx, "h2")).Val(), "hash")
}

func goRedisHashIncr(t *testing.T, rdb *redis.Client) {
	eq(t, "HINCRBY new", ok(t, rdb.HIncrBy(ctx, "n", "a", 5)).Val(), int64(5))
	eq(t, "HINCRBY", ok(t, rdb.HIncrBy(ctx, "n", "a", -7)).Val(), int64(-2))
	ok(t, rdb.HSet(ctx, "n", "big", strconv.FormatInt(1<<62, 10), "txt", "abc"))
	wantErr(t, rdb.HIncrBy(ctx, "n", "big", 1<<62).Err(), "ERR increment or decrement would overflow")
	wantErr(t, rdb.HIncrBy(ctx, "n", "txt", 1).Err(), "ERR hash value is not an integer")
	wantErr(t, rdb.Do(ctx, "HINCRBY", "n", "a", "x").Err(), "ERR value is not an integer or out of range")
	eq(t, "HINCRBYFLOAT", ok(t, rdb.HIncrByFloat(ctx, "n", "f", 1.23)).Val(), 1.23)
	eq(t, "HINCRBYFLOAT", ok(t, rdb.HIncrByFloat(ctx, "n", "f", 0.77)).Val(), 2.0)
	eq(t, "HGET float", ok(t, rdb.HGet(ctx, "n", "f")).Val(), "2")
	eq(t, "HINCRBYFLOAT int field", ok(t, rdb.HIncrByFloat(ctx, "n", "a", 0.5)).Val(), -1.5)
	wantErr(t, rdb.HIncrByFloat(ctx, "n", "txt", 1).Err(), "ERR hash value is not a float")
	wantErr(t, rdb.Do(ctx, "HINCRBYFLOAT", "n", "f", "inf").Err(), "ERR value is NaN or Infinity")
	wantErr(t, rdb.Do(ctx, "HINCRBYFLOAT", "nokey", "f", "inf").Err(), "ERR value is NaN or Infinity")
	eq(t, "no key left behind", ok(t, rdb.Exists(ctx, "nokey")).Val(), int64(0))
}

func goRedisHashRandom(t *testing.T, rdb *redis.Client, proto int) {
	fields := map[string]string{}
	for i := range 10 {
		fields["f"+strconv.Itoa(i)] = "v" + strconv.Itoa(i)
	}
	ok(t, rdb.HSet(ctx, "r", fields))
	one := ok(t, rdb.HRandField(ctx, "r", 1)).Val()
	if len(one) != 1 || fields[one[0]] == "" {
		t.Fatalf("HRANDFIELD 1 = %v", one)
	}
	// Positive counts: distinct fields, at most all of them.
	for _, n := range []int{3, 8, 10, 20} {
		got := ok(t, rdb.HRandField(ctx, "r", n)).Val()
		if len(got) != min(n, 10) {
			t.Fatalf("HRANDFIELD %d gave %d", n, len(got))
		}
		seen := map[string]bool{}
		for _, f := range got {
			if seen[f] || fields[f] == "" {
				t.Fatalf("HRANDFIELD %d: %q repeated or unknown", n, f)
			}
			seen[f] = true
		}
		kvs := ok(t, rdb.HRandFieldWithValues(ctx, "r", n)).Val()
		if len(kvs) != min(n, 10) {
			t.Fatalf("HRANDFIELD %d WITHVALUES gave %d", n, len(kvs))
		}
		for _, kv := range kvs {
			if fields[kv.Key] != kv.Value {
				t.Fatalf("HRANDFIELD WITHVALUES: %q=%q", kv.Key, kv.Value)
			}
		}
	}
	// Negative counts repeat fields; every field shows up eventually.
	got := ok(t, rdb.HRandField(ctx, "r", -1000)).Val()
	counts := map[string]int{}
	for _, f := range got {
		counts[f]++
	}
	if len(got) != 1000 || len(counts) != 10 {
		t.Fatalf("HRANDFIELD -1000: %d fields, %d distinct", len(got), len(counts))
	}
	kvs := ok(t, rdb.HRandFieldWithValues(ctx, "r", -7)).Val()
	if len(kvs) != 7 {
		t.Fatalf("HRANDFIELD -7 WITHVALUES gave %d", len(kvs))
	}
	// RESP3 nests [field, value] pairs; RESP2 is flat.
	raw := ok(t, rdb.Do(ctx, "HRANDFIELD", "r", "2", "WITHVALUES")).Val().([]any)
	if proto == 3 {
		if len(raw) != 2 || len(raw[0].([]any)) != 2 {
			t.Fatalf("RESP3 HRANDFIELD WITHVALUES = %v", raw)
		}
	} else if len(raw) != 4 {
		t.Fatalf("RESP2 HRANDFIELD WITHVALUES = %v", raw)
	}
	eq(t, "HRANDFIELD 0", len(ok(t, rdb.HRandField(ctx, "r", 0)).Val()), 0)
	eq(t, "HRANDFIELD missing", len(ok(t, rdb.HRandField(ctx, "nokey", 5)).Val()), 0)
	if err := rdb.Do(ctx, "HRANDFIELD", "nokey").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("HRANDFIELD missing key without count: %v", err)
	}
	wantErr(t, rdb.Do(ctx, "HRANDFIELD", "r", "-9223372036854775808").Err(), "ERR value is out of range")
	wantErr(t, rdb.Do(ctx, "HRANDFIELD", "r", "-9223372036854770000", "WITHVALUES").Err(), "ERR value is out of range")
	// A negative count whose reply would not fit in memory is refused
	// (Redis would try to build it).
	wantErr(t, rdb.Do(ctx, "HRANDFIELD", "r", "-4611686018427387903", "WITHVALUES").Err(), "ERR value is out of range")
	wantErr(t, rdb.Do(ctx, "HRANDFIELD", "r", "3", "WITHSCORES").Err(), "ERR syntax error")
}

func goRedisHashScan(t *testing.T, rdb *redis.Client) {
	for _, n := range []int{30, 1000} {
		key := "scan" + strconv.Itoa(n)
		args := []any{}
		for i := range n {
			args = append(args, "key:"+strconv.Itoa(i), strconv.Itoa(i))
		}
		ok(t, rdb.HSet(ctx, key, args...))
		seen := map[string]bool{}
		var cursor uint64
		calls := 0
		for {
			kv, next, err := rdb.HScan(ctx, key, cursor, "", 0).Result()
			if err != nil {
				t.Fatal(err)
			}
			calls++
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] != "key:"+kv[i+1] {
					t.Fatalf("HSCAN pair %q %q", kv[i], kv[i+1])
				}
				seen[kv[i]] = true
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		if len(seen) != n {
			t.Fatalf("HSCAN of %d fields saw %d", n, len(seen))
		}
		if n == 30 && calls != 1 {
			t.Fatalf("HSCAN of a listpack took %d calls, want 1", calls)
		}
	}
	kv, _ := ok(t, rdb.HScan(ctx, "scan1000", 0, "key:99*", 10000)).Val()
	if len(kv) != 22 {
		t.Fatalf("HSCAN MATCH key:99* = %d elements, want 22", len(kv))
	}
	kv, cur := ok(t, rdb.HScan(ctx, "nokey", 0, "", 0)).Val()
	if len(kv) != 0 || cur != 0 {
		t.Fatal("HSCAN of a missing key")
	}
	wantErr(t, rdb.Do(ctx, "HSCAN", "scan30", "x").Err(), "ERR invalid cursor")
	wantErr(t, rdb.Do(ctx, "HSCAN", "scan30", "0", "COUNT", "0").Err(), "ERR syntax error")
}

func goRedisHashEncoding(t *testing.T, rdb *redis.Client) {
	defer func() {
		ok(t, rdb.ConfigSet(ctx, "hash-max-listpack-entries", "512"))
		ok(t, rdb.ConfigSet(ctx, "hash-max-listpack-value", "64"))
	}()
	eq(t, "default entries", ok(t, rdb.ConfigGet(ctx, "hash-max-listpack-entries")).Val()["hash-max-listpack-entries"], "512")
	ok(t, rdb.ConfigSet(ctx, "hash-max-ziplist-entries", "4"))
	ok(t, rdb.HSet(ctx, "enc", "a", "1", "b", "2", "c", "3", "d", "4"))
	eq(t, "4 fields", ok(t, rdb.ObjectEncoding(ctx, "enc")).Val(), "listpack")
	ok(t, rdb.HSet(ctx, "enc", "e", "5"))
	eq(t, "5 fields", ok(t, rdb.ObjectEncoding(ctx, "enc")).Val(), "hashtable")
	ok(t, rdb.ConfigSet(ctx, "hash-max-listpack-value", "4"))
	ok(t, rdb.HSet(ctx, "enc2", "a", "1234"))
	eq(t, "4-byte value", ok(t, rdb.ObjectEncoding(ctx, "enc2")).Val(), "listpack")
	ok(t, rdb.HSet(ctx, "enc2", "b", "12345"))
	eq(t, "5-byte value", ok(t, rdb.ObjectEncoding(ctx, "enc2")).Val(), "hashtable")
	wantErr(t, rdb.ConfigSet(ctx, "hash-max-listpack-entries", "-1").Err(), "ERR CONFIG SET failed")
	// MEMORY USAGE grows with the hash.
	small := ok(t, rdb.MemoryUsage(ctx, "enc2")).Val()
	ok(t, rdb.HSet(ctx, "enc2", "c", strings.Repeat("x", 10000)))
	if big := ok(t, rdb.MemoryUsage(ctx, "enc2")).Val(); big < small+10000 {
		t.Fatalf("MEMORY USAGE %d after adding 10000 bytes to %d", big, small)
	}
}

func goRedisHashKeys(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.HSet(ctx, "src", "a", "1", "b", "2"))
	ok(t, rdb.Expire(ctx, "src", time.Minute))
	ok(t, rdb.HSet(ctx, "src", "c", "3"))
	if ttl := ok(t, rdb.TTL(ctx, "src")).Val(); ttl <= 0 {
		t.Fatalf("HSET dropped the TTL: %v", ttl)
	}
	eq(t, "COPY", ok(t, rdb.Copy(ctx, "src", "dst", 0, false)).Val(), int64(1))
	ok(t, rdb.HSet(ctx, "src", "a", "changed"))
	eq(t, "copy is deep", ok(t, rdb.HGet(ctx, "dst", "a")).Val(), "1")
	ok(t, rdb.Rename(ctx, "dst", "dst2"))
	keys := ok(t, rdb.HKeys(ctx, "dst2")).Val()
	sort.Strings(keys)
	if !slices.Equal(keys, []string{"a", "b", "c"}) {
		t.Fatalf("renamed hash fields %v", keys)
	}
	// Transactions and WATCH.
	err := rdb.Watch(ctx, func(tx *redis.Tx) error {
		ok(t, rdb.HSet(ctx, "src", "w", "1")) // another client changes the key
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, "src", "x", "1")
			return nil
		})
		return err
	}, "src")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("WATCH of a hash changed by HSET: %v", err)
	}
	cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, "tx", "a", "1")
		p.HIncrBy(ctx, "tx", "a", 2)
		p.HGetAll(ctx, "tx")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "MULTI HINCRBY", cmds[1].(*redis.IntCmd).Val(), int64(3))
	eq(t, "MULTI HGETALL", cmds[2].(*redis.MapStringStringCmd).Val()["a"], "3")
}

// Hashes and sets survive a restart through a snapshot, with their TTLs;
// their encodings are chosen again at load time, as Redis does.
func TestHashSetSnapshot(t *testing.T) {
	dir := t.TempDir()
	addr, stop := runCached(t, dir, "3600 1")
	c := dialRaw(t, addr)
	c.do("HSET", "small", "a", "1", "b", "2")
	c.do("HSET", "big", "long", strings.Repeat("x", 100))
	for i := range 600 {
		c.do("HSET", "big", "f"+strconv.Itoa(i), strconv.Itoa(i))
		c.do("SADD", "ints", strconv.Itoa(i))
	}
	c.do("SADD", "strs", "a", "b", "c")
	c.do("SADD", "few", "1", "2", "x")
	c.do("SREM", "few", "x") // a hashtable of integers: reloads as an intset
	c.do("EXPIRE", "small", "1000")
	c.do("SELECT", "2")
	c.do("SADD", "in2", "5")
	// Writes that change nothing are not changes for the save rules.
	before := c.do("INFO", "persistence")
	c.do("SADD", "in2", "5")
	c.do("SREM", "in2", "6")
	c.do("HDEL", "nokey", "f")
	c.do("SMOVE", "in2", "other", "7")
	c.do("SINTERSTORE", "nothing", "nokey")
	if after := c.do("INFO", "persistence"); changes(before) != changes(after) {
		t.Fatalf("no-op writes counted as changes: %d then %d", changes(before), changes(after))
	}
	stop()

	addr2, _ := runCached(t, dir, "")
	c2 := dialRaw(t, addr2)
	eq(t, "small", c2.do("HGETALL", "small"), "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n")
	ttl := c2.do("TTL", "small")
	if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(ttl, ":"), "\r\n")); err != nil || n < 990 || n > 1000 {
		t.Fatalf("TTL after restart %q", ttl)
	}
	eq(t, "big HLEN", c2.do("HLEN", "big"), ":601\r\n")
	eq(t, "big HGET", c2.do("HGET", "big", "f599"), "$3\r\n599\r\n")
	eq(t, "big encoding", c2.do("OBJECT", "ENCODING", "big"), "$9\r\nhashtable\r\n")
	eq(t, "small encoding", c2.do("OBJECT", "ENCODING", "small"), "$8\r\nlistpack\r\n")
	eq(t, "ints SCARD", c2.do("SCARD", "ints"), ":600\r\n")
	eq(t, "ints encoding", c2.do("OBJECT", "ENCODING", "ints"), "$9\r\nhashtable\r\n")
	eq(t, "few", c2.do("SMEMBERS", "few"), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n")
	eq(t, "few encoding", c2.do("OBJECT", "ENCODING", "few"), "$6\r\nintset\r\n")
	eq(t, "strs", c2.do("SCARD", "strs"), ":3\r\n")
	c2.do("SELECT", "2")
	eq(t, "in2", c2.do("SMEMBERS", "in2"), "*1\r\n$1\r\n5\r\n")
}

// changes reads rdb_changes_since_last_save from an INFO reply.
func changes(info string) int {
	_, rest, _ := strings.Cut(info, "rdb_changes_since_last_save:")
	n, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(rest, "\r\n", 2)[0]))
	return n
}
