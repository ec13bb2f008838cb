package cached_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The string, key and transaction families through the real go-redis
// client, in RESP2 and RESP3.
func TestGoRedis(t *testing.T) {
	_, addr := startCached(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp=%d", proto), func(t *testing.T) {
			rdb := newClient(t, addr, proto)
			if err := rdb.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			t.Run("strings", func(t *testing.T) { goRedisStrings(t, rdb) })
			t.Run("keys", func(t *testing.T) { goRedisKeys(t, rdb) })
			t.Run("pipeline", func(t *testing.T) { goRedisPipeline(t, rdb) })
			t.Run("transactions", func(t *testing.T) { goRedisTx(t, rdb) })
			t.Run("server", func(t *testing.T) { goRedisServer(t, rdb, proto) })
		})
	}
}

// ok fails the test if cmd failed and returns it.
func ok[C redis.Cmder](t *testing.T, cmd C) C {
	t.Helper()
	if err := cmd.Err(); err != nil {
		t.Fatalf("%v: %v", cmd.Args(), err)
	}
	return cmd
}

func okInt(t *testing.T, cmd interface {
	redis.Cmder
	Int() (int, error)
}) int {
	t.Helper()
	n, err := cmd.Int()
	if err != nil {
		t.Fatalf("%v: %v", cmd.Args(), err)
	}
	return n
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func goRedisStrings(t *testing.T, rdb *redis.Client) {
	eq(t, "SET", ok(t, rdb.Set(ctx, "s", "hello", 0)).Val(), "OK")
	eq(t, "GET", ok(t, rdb.Get(ctx, "s")).Val(), "hello")
	if _, err := rdb.Get(ctx, "missing").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET missing: %v, want redis.Nil", err)
	}
	eq(t, "SETNX existing", ok(t, rdb.SetNX(ctx, "s", "x", 0)).Val(), false)
	eq(t, "SET XX EX", ok(t, rdb.SetXX(ctx, "s", "world", time.Minute)).Val(), true)
	ttl := ok(t, rdb.TTL(ctx, "s")).Val()
	if ttl <= 58*time.Second || ttl > time.Minute {
		t.Fatalf("TTL = %v", ttl)
	}
	eq(t, "SET GET", ok(t, rdb.SetArgs(ctx, "s", "again", redis.SetArgs{Get: true, KeepTTL: true})).Val(), "world")
	eq(t, "GETDEL", ok(t, rdb.GetDel(ctx, "s")).Val(), "again")
	eq(t, "EXISTS", ok(t, rdb.Exists(ctx, "s")).Val(), int64(0))
	eq(t, "INCR", ok(t, rdb.Incr(ctx, "n")).Val(), int64(1))
	eq(t, "INCRBY", ok(t, rdb.IncrBy(ctx, "n", 41)).Val(), int64(42))
	eq(t, "DECRBY", ok(t, rdb.DecrBy(ctx, "n", 2)).Val(), int64(40))
	eq(t, "INCRBYFLOAT", ok(t, rdb.IncrByFloat(ctx, "f", 1.25)).Val(), 1.25)
	eq(t, "APPEND", ok(t, rdb.Append(ctx, "a", "abc")).Val(), int64(3))
	eq(t, "SETRANGE", ok(t, rdb.SetRange(ctx, "a", 1, "XY")).Val(), int64(3))
	eq(t, "GETRANGE", ok(t, rdb.GetRange(ctx, "a", 0, -1)).Val(), "aXY")
	eq(t, "STRLEN", ok(t, rdb.StrLen(ctx, "a")).Val(), int64(3))
	eq(t, "MSET", ok(t, rdb.MSet(ctx, "m1", "1", "m2", "2")).Val(), "OK")
	vals := ok(t, rdb.MGet(ctx, "m1", "m2", "nope")).Val()
	if len(vals) != 3 || vals[0] != "1" || vals[1] != "2" || vals[2] != nil {
		t.Fatalf("MGET = %v", vals)
	}
	eq(t, "MSETNX", ok(t, rdb.MSetNX(ctx, "m1", "x", "m3", "3")).Val(), false)
	eq(t, "GETEX", ok(t, rdb.GetEx(ctx, "m1", 10*time.Second)).Val(), "1")
	if d := ok(t, rdb.PTTL(ctx, "m1")).Val(); d <= 9*time.Second {
		t.Fatalf("PTTL after GETEX = %v", d)
	}
	eq(t, "LCS", ok(t, rdb.LCS(ctx, &redis.LCSQuery{Key1: "m1", Key2: "m2"})).Val().MatchString, "")
	rdb.Set(ctx, "l1", "ohmytext", 0)
	rdb.Set(ctx, "l2", "mynewtext", 0)
	lcs := ok(t, rdb.LCS(ctx, &redis.LCSQuery{Key1: "l1", Key2: "l2", Idx: true, WithMatchLen: true})).Val()
	if lcs.Len != 6 || len(lcs.Matches) != 2 || lcs.Matches[0].Key1.Start != 4 || lcs.Matches[0].MatchLen != 4 {
		t.Fatalf("LCS IDX = %+v", lcs)
	}
	if err := rdb.Incr(ctx, "a").Err(); err == nil || err.Error() != "ERR value is not an integer or out of range" {
		t.Fatalf("INCR of a string: %v", err)
	}
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i)
	}
	rdb.Set(ctx, "big", big, 0)
	eq(t, "big value", ok(t, rdb.Get(ctx, "big")).Val(), string(big))
}

func goRedisKeys(t *testing.T, rdb *redis.Client) {
	rdb.FlushDB(ctx)
	for i := range 100 {
		rdb.Set(ctx, "key:"+strconv.Itoa(i), i, 0)
	}
	eq(t, "DBSIZE", ok(t, rdb.DBSize(ctx)).Val(), int64(100))
	eq(t, "KEYS", len(ok(t, rdb.Keys(ctx, "key:1?")).Val()), 10)
	seen := map[string]bool{}
	iter := rdb.Scan(ctx, 0, "key:*", 7).Iterator()
	for iter.Next(ctx) {
		seen[iter.Val()] = true
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	eq(t, "SCAN distinct keys", len(seen), 100)
	keys, _ := ok(t, rdb.ScanType(ctx, 0, "*", 1000, "hash")).Val()
	eq(t, "SCAN TYPE hash", len(keys), 0)
	eq(t, "TYPE", ok(t, rdb.Type(ctx, "key:1")).Val(), "string")
	eq(t, "DEL", ok(t, rdb.Del(ctx, "key:1", "key:2", "nope")).Val(), int64(2))
	eq(t, "UNLINK", ok(t, rdb.Unlink(ctx, "key:3")).Val(), int64(1))
	eq(t, "RENAME", ok(t, rdb.Rename(ctx, "key:4", "renamed")).Val(), "OK")
	eq(t, "RENAMENX", ok(t, rdb.RenameNX(ctx, "renamed", "key:5")).Val(), false)
	eq(t, "COPY", ok(t, rdb.Copy(ctx, "renamed", "copied", 1, false)).Val(), int64(1))
	eq(t, "MOVE", ok(t, rdb.Move(ctx, "renamed", 2)).Val(), true)
	eq(t, "EXPIRE", ok(t, rdb.Expire(ctx, "key:6", time.Hour)).Val(), true)
	eq(t, "EXPIRE NX", ok(t, rdb.ExpireNX(ctx, "key:6", time.Hour)).Val(), false)
	eq(t, "EXPIRE GT", ok(t, rdb.ExpireGT(ctx, "key:6", 2*time.Hour)).Val(), true)
	eq(t, "EXPIRE LT", ok(t, rdb.ExpireLT(ctx, "key:6", time.Minute)).Val(), true)
	if et := ok(t, rdb.ExpireTime(ctx, "key:6")).Val(); et < time.Duration(time.Now().Unix())*time.Second {
		t.Fatalf("EXPIRETIME = %v", et)
	}
	eq(t, "PERSIST", ok(t, rdb.Persist(ctx, "key:6")).Val(), true)
	eq(t, "TTL none", ok(t, rdb.TTL(ctx, "key:6")).Val(), time.Duration(-1))
	eq(t, "TOUCH", ok(t, rdb.Touch(ctx, "key:7", "nope")).Val(), int64(1))
	if k := ok(t, rdb.RandomKey(ctx)).Val(); k == "" {
		t.Fatal("RANDOMKEY empty")
	}
	rdb.Set(ctx, "gone", "v", 50*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for rdb.Exists(ctx, "gone").Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("key with a 50ms TTL still exists after 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func goRedisPipeline(t *testing.T, rdb *redis.Client) {
	rdb.FlushDB(ctx)
	cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 1000 {
			p.Set(ctx, "p:"+strconv.Itoa(i), i, 0)
			p.Incr(ctx, "p:counter")
		}
		p.Get(ctx, "p:999")
		p.Get(ctx, "p:counter")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "pipelined replies", len(cmds), 2002)
	eq(t, "GET in pipeline", cmds[2000].(*redis.StringCmd).Val(), "999")
	eq(t, "counter", cmds[2001].(*redis.StringCmd).Val(), "1000")
}

func goRedisTx(t *testing.T, rdb *redis.Client) {
	rdb.FlushDB(ctx)
	cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "tx", 1, 0)
		p.Incr(ctx, "tx")
		p.Get(ctx, "tx")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "GET in MULTI", cmds[2].(*redis.StringCmd).Val(), "2")

	// Optimistic locking: concurrent increments through WATCH never lose
	// an update.
	rdb.Set(ctx, "ctr", 0, 0)
	var wg sync.WaitGroup
	const workers, each = 4, 25
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				for {
					err := rdb.Watch(ctx, func(tx *redis.Tx) error {
						n, err := tx.Get(ctx, "ctr").Int()
						if err != nil {
							return err
						}
						_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
							p.Set(ctx, "ctr", n+1, 0)
							return nil
						})
						return err
					}, "ctr")
					if err == nil {
						break
					}
					if !errors.Is(err, redis.TxFailedErr) {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	eq(t, "counter after WATCH/MULTI increments", okInt(t, rdb.Get(ctx, "ctr")), workers*each)

	// A queued error aborts the whole transaction.
	_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "tx2", 1, 0)
		p.Do(ctx, "nosuchcommand")
		return nil
	})
	if err == nil {
		t.Fatal("transaction with an unknown command succeeded")
	}
	eq(t, "EXISTS after EXECABORT", ok(t, rdb.Exists(ctx, "tx2")).Val(), int64(0))
}

func goRedisServer(t *testing.T, rdb *redis.Client, proto int) {
	info := ok(t, rdb.Info(ctx, "server", "keyspace", "memory")).Val()
	for _, want := range []string{"redis_version:7.0.15", "# Keyspace", "used_memory:"} {
		if !contains(info, want) {
			t.Fatalf("INFO lacks %q:\n%s", want, info)
		}
	}
	cfg := ok(t, rdb.ConfigGet(ctx, "maxmemory*")).Val()
	eq(t, "CONFIG GET maxmemory-policy", cfg["maxmemory-policy"], "noeviction")
	eq(t, "CONFIG SET", ok(t, rdb.ConfigSet(ctx, "maxmemory-samples", "7")).Val(), "OK")
	eq(t, "CONFIG GET after SET", ok(t, rdb.ConfigGet(ctx, "maxmemory-samples")).Val()["maxmemory-samples"], "7")
	rdb.ConfigSet(ctx, "maxmemory-samples", "5")
	eq(t, "CLIENT SETNAME", ok(t, rdb.Do(ctx, "CLIENT", "SETNAME", "tester")).Val(), any("OK"))
	list := ok(t, rdb.ClientList(ctx)).Val()
	if !contains(list, "name=tester") || !contains(list, "resp="+strconv.Itoa(proto)) {
		t.Fatalf("CLIENT LIST = %q", list)
	}
	if n := okInt(t, rdb.Do(ctx, "COMMAND", "COUNT")); n < 50 {
		t.Fatalf("COMMAND COUNT = %d", n)
	}
	docs := ok(t, rdb.CommandList(ctx, nil)).Val()
	if len(docs) < 50 {
		t.Fatalf("COMMAND LIST has %d names", len(docs))
	}
	tm := ok(t, rdb.Time(ctx)).Val()
	if d := time.Since(tm); d > time.Minute || d < -time.Minute {
		t.Fatalf("TIME is %v away", d)
	}
	eq(t, "MEMORY USAGE", ok(t, rdb.MemoryUsage(ctx, "ctr")).Val() > 0, true)
	eq(t, "OBJECT ENCODING", ok(t, rdb.ObjectEncoding(ctx, "ctr")).Val(), "int")
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
