package cached_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DUMP and RESTORE through go-redis, in RESP2 and RESP3: every type round
// trips with its TTL and access-time options.
func TestDumpGoRedis(t *testing.T) {
	_, addr := startCached(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp=%d", proto), func(t *testing.T) {
			rdb := newClient(t, addr, proto)
			ok(t, rdb.FlushAll(ctx))
			goRedisDump(t, rdb)
		})
	}
}

func goRedisDump(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.Set(ctx, "s", strings.Repeat("payload ", 100), 0))
	ok(t, rdb.RPush(ctx, "l", "a", "b", 3))
	ok(t, rdb.SAdd(ctx, "set", 1, 2, 3))
	ok(t, rdb.ZAdd(ctx, "z", redis.Z{Score: 1.5, Member: "m"}))
	ok(t, rdb.HSet(ctx, "h", "f", "v"))
	for _, k := range []string{"s", "l", "set", "z", "h"} {
		p := ok(t, rdb.Dump(ctx, k)).Val()
		eq(t, "RESTORE "+k, ok(t, rdb.Restore(ctx, k+"2", 0, p)).Val(), "OK")
		eq(t, "TYPE "+k, ok(t, rdb.Type(ctx, k+"2")).Val(), ok(t, rdb.Type(ctx, k)).Val())
		if err := rdb.Restore(ctx, k+"2", 0, p).Err(); err == nil || err.Error() != "BUSYKEY Target key name already exists." {
			t.Fatalf("RESTORE over an existing key: %v", err)
		}
		eq(t, "RESTORE REPLACE", ok(t, rdb.RestoreReplace(ctx, k+"2", time.Minute, p)).Val(), "OK")
		if ttl := ok(t, rdb.PTTL(ctx, k+"2")).Val(); ttl <= 50*time.Second || ttl > time.Minute {
			t.Fatalf("PTTL after RESTORE 60000 = %v", ttl)
		}
	}
	eq(t, "string", ok(t, rdb.Get(ctx, "s2")).Val(), strings.Repeat("payload ", 100))
	if got := ok(t, rdb.LRange(ctx, "l2", 0, -1)).Val(); strings.Join(got, ",") != "a,b,3" {
		t.Fatalf("list = %v", got)
	}
	eq(t, "zset", ok(t, rdb.ZScore(ctx, "z2", "m")).Val(), 1.5)
	eq(t, "hash", ok(t, rdb.HGet(ctx, "h2", "f")).Val(), "v")
	eq(t, "set", ok(t, rdb.SCard(ctx, "set2")).Val(), int64(3))
	if err := rdb.Dump(ctx, "nokey").Err(); err != redis.Nil {
		t.Fatalf("DUMP of a missing key: %v", err)
	}

	// ABSTTL, IDLETIME.
	p := ok(t, rdb.Dump(ctx, "s")).Val()
	at := time.Now().Add(time.Hour).UnixMilli()
	ok(t, rdb.Do(ctx, "RESTORE", "abs", at, p, "ABSTTL"))
	if ms := ok(t, rdb.PExpireTime(ctx, "abs")).Val(); ms != time.Duration(at)*time.Millisecond {
		t.Fatalf("PEXPIRETIME = %v, want %d ms", ms, at)
	}
	ok(t, rdb.Do(ctx, "RESTORE", "idle", 0, p, "IDLETIME", 5000))
	if idle := ok(t, rdb.ObjectIdleTime(ctx, "idle")).Val(); idle < 5000*time.Second || idle > 5010*time.Second {
		t.Fatalf("OBJECT IDLETIME after IDLETIME 5000 = %v", idle)
	}
	eq(t, "expired on arrival", ok(t, rdb.Do(ctx, "RESTORE", "gone", 1, p, "ABSTTL")).Val(), any("OK"))
	eq(t, "not created", ok(t, rdb.Exists(ctx, "gone")).Val(), int64(0))

	for _, c := range []struct {
		args []any
		want string
	}{
		{[]any{"RESTORE", "x", 0, "junk"}, "ERR DUMP payload version or checksum are wrong"},
		{[]any{"RESTORE", "x", -1, p}, "ERR Invalid TTL value, must be >= 0"},
		{[]any{"RESTORE", "x", 0, p, "IDLETIME", -1}, "ERR Invalid IDLETIME value, must be >= 0"},
		{[]any{"RESTORE", "x", 0, p, "FREQ", 300}, "ERR Invalid FREQ value, must be >= 0 and <= 255"},
		{[]any{"RESTORE", "x", 0, p, "BAD"}, "ERR syntax error"},
	} {
		if err := rdb.Do(ctx, c.args...).Err(); err == nil || err.Error() != c.want {
			t.Errorf("%v: %v, want %q", c.args[:2], err, c.want)
		}
	}
}

// RESTORE FREQ sets the LFU counter under an LFU policy.
func TestRestoreFreq(t *testing.T) {
	_, addr := startCached(t, nil)
	rdb := newClient(t, addr, 2)
	ok(t, rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lfu"))
	ok(t, rdb.Set(ctx, "k", "v", 0))
	p := ok(t, rdb.Dump(ctx, "k")).Val()
	ok(t, rdb.Do(ctx, "RESTORE", "f", 0, p, "FREQ", 100))
	eq(t, "OBJECT FREQ", ok(t, rdb.ObjectFreq(ctx, "f")).Val(), int64(100))
}

// A restored value is accounted like one built by commands.
func TestRestoreMemoryAccounting(t *testing.T) {
	_, addr := startCached(t, nil)
	rdb := newClient(t, addr, 2)
	var fields []any
	for i := 0; i < 2000; i++ {
		fields = append(fields, "field"+strconv.Itoa(i), strings.Repeat("v", 50))
	}
	ok(t, rdb.HSet(ctx, "h", fields...))
	p := ok(t, rdb.Dump(ctx, "h")).Val()
	ok(t, rdb.Restore(ctx, "h2", 0, p))
	m1, m2 := ok(t, rdb.MemoryUsage(ctx, "h")).Val(), ok(t, rdb.MemoryUsage(ctx, "h2")).Val()
	if m2 < m1*9/10 || m2 > m1*11/10 {
		t.Fatalf("MEMORY USAGE: built %d, restored %d", m1, m2)
	}
}
