package cached_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"
)

// The HyperLogLog family through go-redis, in RESP2 and RESP3.
func TestHLLGoRedis(t *testing.T) {
	_, addr := startCached(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp=%d", proto), func(t *testing.T) {
			rdb := newClient(t, addr, proto)
			ok(t, rdb.FlushAll(ctx))
			goRedisHLL(t, rdb)
		})
	}
}

func goRedisHLL(t *testing.T, rdb *redis.Client) {
	eq(t, "PFADD new", ok(t, rdb.PFAdd(ctx, "h")).Val(), int64(1))
	eq(t, "PFCOUNT empty", ok(t, rdb.PFCount(ctx, "h")).Val(), int64(0))
	eq(t, "PFADD", ok(t, rdb.PFAdd(ctx, "h", "a", "b", "c")).Val(), int64(1))
	eq(t, "PFADD same", ok(t, rdb.PFAdd(ctx, "h", "a", "b", "c")).Val(), int64(0))
	eq(t, "PFCOUNT", ok(t, rdb.PFCount(ctx, "h")).Val(), int64(3))
	eq(t, "PFCOUNT missing", ok(t, rdb.PFCount(ctx, "nokey")).Val(), int64(0))
	eq(t, "TYPE", ok(t, rdb.Type(ctx, "h")).Val(), "string")
	eq(t, "ENCODING", ok(t, rdb.ObjectEncoding(ctx, "h")).Val(), "raw")

	// Two overlapping sets of 5000: the union counts about 7500.
	var a, b []any
	for i := 0; i < 5000; i++ {
		a = append(a, "x"+strconv.Itoa(i))
		b = append(b, "x"+strconv.Itoa(i+2500))
	}
	ok(t, rdb.PFAdd(ctx, "a", a...))
	ok(t, rdb.PFAdd(ctx, "b", b...))
	within := func(what string, got, want int64) {
		t.Helper()
		if d := float64(got-want) / float64(want); d > 0.03 || d < -0.03 {
			t.Fatalf("%s = %d, want about %d", what, got, want)
		}
	}
	within("PFCOUNT a", ok(t, rdb.PFCount(ctx, "a")).Val(), 5000)
	within("PFCOUNT a b", ok(t, rdb.PFCount(ctx, "a", "b", "nokey")).Val(), 7500)
	eq(t, "PFMERGE", ok(t, rdb.PFMerge(ctx, "u", "a", "b")).Val(), "OK")
	within("PFCOUNT merged", ok(t, rdb.PFCount(ctx, "u")).Val(), 7500)
	eq(t, "merged = union", ok(t, rdb.PFCount(ctx, "u")).Val(), ok(t, rdb.PFCount(ctx, "a", "b")).Val())
	eq(t, "dense size", ok(t, rdb.StrLen(ctx, "u")).Val(), int64(12304))

	// A value copied out with GET and back with SET is the same HLL.
	v := ok(t, rdb.Get(ctx, "a")).Val()
	ok(t, rdb.Set(ctx, "copy", v, 0))
	eq(t, "PFCOUNT copy", ok(t, rdb.PFCount(ctx, "copy")).Val(), ok(t, rdb.PFCount(ctx, "a")).Val())

	// Errors.
	ok(t, rdb.Set(ctx, "str", "not an hll", 0))
	ok(t, rdb.LPush(ctx, "list", "x"))
	for _, c := range []struct {
		cmd  redis.Cmder
		want string
	}{
		{rdb.PFAdd(ctx, "str", "x"), "WRONGTYPE Key is not a valid HyperLogLog string value."},
		{rdb.PFCount(ctx, "str"), "WRONGTYPE Key is not a valid HyperLogLog string value."},
		{rdb.PFCount(ctx, "h", "list"), "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{rdb.PFMerge(ctx, "h", "str"), "WRONGTYPE Key is not a valid HyperLogLog string value."},
		{rdb.PFMerge(ctx, "list", "h"), "WRONGTYPE Operation against a key holding the wrong kind of value"},
	} {
		if err := c.cmd.Err(); err == nil || err.Error() != c.want {
			t.Errorf("%v: %v, want %q", c.cmd.Args(), err, c.want)
		}
	}
	ok(t, rdb.PFAdd(ctx, "bad", "a", "b"))
	ok(t, rdb.Append(ctx, "bad", "junk"))
	if err := rdb.PFCount(ctx, "bad").Err(); err == nil || err.Error() != "INVALIDOBJ Corrupted HLL object detected" {
		t.Errorf("PFCOUNT of a corrupt sparse value: %v", err)
	}
}

// HLL values are accounted at their size (a dense one is 12304 bytes).
func TestHLLMemoryAccounting(t *testing.T) {
	_, addr := startCached(t, nil)
	rdb := newClient(t, addr, 2)
	for i := 0; i < 20000; i += 1000 {
		var els []any
		for j := i; j < i+1000; j++ {
			els = append(els, j)
		}
		ok(t, rdb.PFAdd(ctx, "d", els...))
	}
	if mem := ok(t, rdb.MemoryUsage(ctx, "d")).Val(); mem < 12304 || mem > 12304+4096 {
		t.Fatalf("MEMORY USAGE of a dense HLL = %d", mem)
	}
	ok(t, rdb.PFAdd(ctx, "s", "a", "b", "c"))
	if mem := ok(t, rdb.MemoryUsage(ctx, "s")).Val(); mem > 512 {
		t.Fatalf("MEMORY USAGE of a small sparse HLL = %d", mem)
	}
}
