package cached_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// The bitmap family through go-redis, in RESP2 and RESP3.
func TestBitmapGoRedis(t *testing.T) {
	_, addr := startCached(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp=%d", proto), func(t *testing.T) {
			rdb := newClient(t, addr, proto)
			ok(t, rdb.FlushAll(ctx))
			t.Run("setbit", func(t *testing.T) { goRedisSetBit(t, rdb) })
			t.Run("bitcount", func(t *testing.T) { goRedisBitCount(t, rdb) })
			t.Run("bitop", func(t *testing.T) { goRedisBitOp(t, rdb) })
			t.Run("bitfield", func(t *testing.T) { goRedisBitField(t, rdb) })
			t.Run("errors", func(t *testing.T) { goRedisBitErrors(t, rdb) })
			t.Run("pipeline", func(t *testing.T) { goRedisBitPipeline(t, rdb) })
		})
	}
}

func goRedisSetBit(t *testing.T, rdb *redis.Client) {
	eq(t, "SETBIT new", ok(t, rdb.SetBit(ctx, "b", 7, 1)).Val(), int64(0))
	eq(t, "SETBIT again", ok(t, rdb.SetBit(ctx, "b", 7, 1)).Val(), int64(1))
	eq(t, "GET", ok(t, rdb.Get(ctx, "b")).Val(), "\x01")
	eq(t, "SETBIT grows", ok(t, rdb.SetBit(ctx, "b", 23, 1)).Val(), int64(0))
	eq(t, "GET grown", ok(t, rdb.Get(ctx, "b")).Val(), "\x01\x00\x01")
	eq(t, "GETBIT", ok(t, rdb.GetBit(ctx, "b", 23)).Val(), int64(1))
	eq(t, "GETBIT beyond", ok(t, rdb.GetBit(ctx, "b", 1000)).Val(), int64(0))
	eq(t, "GETBIT missing", ok(t, rdb.GetBit(ctx, "nokey", 3)).Val(), int64(0))
	eq(t, "SETBIT clear", ok(t, rdb.SetBit(ctx, "b", 7, 0)).Val(), int64(1))
	eq(t, "ENCODING", ok(t, rdb.ObjectEncoding(ctx, "b")).Val(), "raw")
	// A number keeps reading as its decimal text.
	ok(t, rdb.Set(ctx, "n", 1, 0))
	eq(t, "GETBIT of '1'", ok(t, rdb.GetBit(ctx, "n", 7)).Val(), int64(1)) // '1' = 0x31
	eq(t, "SETBIT on int", ok(t, rdb.SetBit(ctx, "n", 6, 1)).Val(), int64(0))
	eq(t, "GET int", ok(t, rdb.Get(ctx, "n")).Val(), "3")
	// The TTL survives a SETBIT.
	ok(t, rdb.Set(ctx, "ttl", "x", 100_000_000_000))
	ok(t, rdb.SetBit(ctx, "ttl", 100, 1))
	if ttl := ok(t, rdb.TTL(ctx, "ttl")).Val(); ttl <= 0 {
		t.Fatalf("TTL after SETBIT = %v", ttl)
	}
}

func goRedisBitCount(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.Set(ctx, "s", "foobar", 0))
	eq(t, "BITCOUNT", ok(t, rdb.BitCount(ctx, "s", nil)).Val(), int64(26))
	eq(t, "BITCOUNT 1 1", ok(t, rdb.BitCount(ctx, "s", &redis.BitCount{Start: 1, End: 1})).Val(), int64(6))
	eq(t, "BITCOUNT bit", ok(t, rdb.BitCount(ctx, "s", &redis.BitCount{Start: 5, End: 30, Unit: redis.BitCountIndexBit})).Val(), int64(17))
	eq(t, "BITCOUNT byte", ok(t, rdb.BitCount(ctx, "s", &redis.BitCount{Start: -2, End: -1, Unit: redis.BitCountIndexByte})).Val(), int64(7))
	eq(t, "BITCOUNT missing", ok(t, rdb.BitCount(ctx, "nokey", nil)).Val(), int64(0))
	ok(t, rdb.Set(ctx, "p", "\xff\xf0\x00", 0))
	eq(t, "BITPOS 0", ok(t, rdb.BitPos(ctx, "p", 0)).Val(), int64(12))
	eq(t, "BITPOS 1 from 2", ok(t, rdb.BitPos(ctx, "p", 1, 2)).Val(), int64(-1))
	eq(t, "BITPOS 0 range", ok(t, rdb.BitPos(ctx, "p", 0, 0, 1)).Val(), int64(12))
	eq(t, "BITPOS span bit", ok(t, rdb.BitPosSpan(ctx, "p", 1, 7, 15, "bit")).Val(), int64(7))
	eq(t, "BITPOS span byte", ok(t, rdb.BitPosSpan(ctx, "p", 0, 0, 0, "byte")).Val(), int64(-1))
	eq(t, "BITPOS missing 0", ok(t, rdb.BitPos(ctx, "nokey", 0)).Val(), int64(0))
	eq(t, "BITPOS missing 1", ok(t, rdb.BitPos(ctx, "nokey", 1)).Val(), int64(-1))
}

func goRedisBitOp(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.Set(ctx, "x", "\x0f\xf0", 0))
	ok(t, rdb.Set(ctx, "y", "\xff", 0))
	eq(t, "AND", ok(t, rdb.BitOpAnd(ctx, "d", "x", "y")).Val(), int64(2))
	eq(t, "AND value", ok(t, rdb.Get(ctx, "d")).Val(), "\x0f\x00")
	eq(t, "OR", ok(t, rdb.BitOpOr(ctx, "d", "x", "y")).Val(), int64(2))
	eq(t, "OR value", ok(t, rdb.Get(ctx, "d")).Val(), "\xff\xf0")
	eq(t, "XOR", ok(t, rdb.BitOpXor(ctx, "d", "x", "y", "nokey")).Val(), int64(2))
	eq(t, "XOR value", ok(t, rdb.Get(ctx, "d")).Val(), "\xf0\xf0")
	eq(t, "NOT", ok(t, rdb.BitOpNot(ctx, "d", "x")).Val(), int64(2))
	eq(t, "NOT value", ok(t, rdb.Get(ctx, "d")).Val(), "\xf0\x0f")
	eq(t, "in place", ok(t, rdb.BitOpNot(ctx, "x", "x")).Val(), int64(2))
	eq(t, "in place value", ok(t, rdb.Get(ctx, "x")).Val(), "\xf0\x0f")
	eq(t, "empty result deletes", ok(t, rdb.BitOpOr(ctx, "d", "nokey")).Val(), int64(0))
	eq(t, "deleted", ok(t, rdb.Exists(ctx, "d")).Val(), int64(0))
	// A long value (the word-at-a-time loops) against a bit-by-bit check.
	a := strings.Repeat("\x5a\xc3\x01", 100)
	b := strings.Repeat("\xff\x10", 77)
	ok(t, rdb.Set(ctx, "la", a, 0))
	ok(t, rdb.Set(ctx, "lb", b, 0))
	ok(t, rdb.BitOpAnd(ctx, "la&lb", "la", "lb"))
	got := ok(t, rdb.Get(ctx, "la&lb")).Val()
	for i := range len(a) {
		var want byte
		if i < len(b) {
			want = a[i] & b[i]
		}
		if got[i] != want {
			t.Fatalf("AND byte %d = %#x, want %#x", i, got[i], want)
		}
	}
}

func goRedisBitField(t *testing.T, rdb *redis.Client) {
	vals := ok(t, rdb.BitField(ctx, "bf", "SET", "i8", 0, -100, "GET", "i8", 0, "GET", "u8", 0)).Val()
	if !slices.Equal(vals, []int64{0, -100, 156}) {
		t.Fatalf("BITFIELD SET/GET = %v", vals)
	}
	vals = ok(t, rdb.BitField(ctx, "bf", "INCRBY", "u2", 100, 1, "OVERFLOW", "SAT", "INCRBY", "u2", 102, 7)).Val()
	if !slices.Equal(vals, []int64{1, 3}) {
		t.Fatalf("BITFIELD INCRBY = %v", vals)
	}
	vals = ok(t, rdb.BitField(ctx, "bf", "SET", "u8", "#2", 255, "GET", "u8", "#2", "OVERFLOW", "WRAP", "INCRBY", "u8", "#2", 2)).Val()
	if !slices.Equal(vals, []int64{0, 255, 1}) {
		t.Fatalf("BITFIELD # offsets = %v", vals)
	}
	// OVERFLOW FAIL answers a null in the array.
	res := ok(t, rdb.Do(ctx, "BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", 0, -100, "GET", "i8", 0)).Val()
	if arr, ok := res.([]any); !ok || len(arr) != 2 || arr[0] != nil || arr[1] != int64(-100) {
		t.Fatalf("BITFIELD FAIL = %#v", res)
	}
	vals = ok(t, rdb.BitFieldRO(ctx, "bf", "i8", 0, "u4", 4)).Val()
	if !slices.Equal(vals, []int64{-100, 12}) {
		t.Fatalf("BITFIELD_RO = %v", vals)
	}
	vals = ok(t, rdb.BitField(ctx, "bf64", "SET", "i64", 0, "-1", "GET", "u63", 0, "GET", "i64", 0)).Val()
	if !slices.Equal(vals, []int64{0, 1<<63 - 1, -1}) {
		t.Fatalf("BITFIELD 64 bits = %v", vals)
	}
	if n := ok(t, rdb.BitField(ctx, "empty")).Val(); len(n) != 0 {
		t.Fatalf("BITFIELD with no ops = %v", n)
	}
	eq(t, "read-only ops create nothing", ok(t, rdb.Exists(ctx, "empty")).Val(), int64(0))
}

func goRedisBitErrors(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.LPush(ctx, "list", "a"))
	ok(t, rdb.Set(ctx, "str", "x", 0))
	for _, c := range []struct {
		args []any
		want string
	}{
		{[]any{"SETBIT", "list", 0, 1}, "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{[]any{"GETBIT", "list", 0}, "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{[]any{"SETBIT", "str", -1, 1}, "ERR bit offset is not an integer or out of range"},
		{[]any{"SETBIT", "str", 4294967296, 1}, "ERR bit offset is not an integer or out of range"},
		{[]any{"SETBIT", "str", 0, 2}, "ERR bit is not an integer or out of range"},
		{[]any{"BITPOS", "str", 2}, "ERR The bit argument must be 1 or 0."},
		{[]any{"BITCOUNT", "str", 0}, "ERR syntax error"},
		{[]any{"BITCOUNT", "str", 0, 1, "bits"}, "ERR syntax error"},
		{[]any{"BITOP", "NOT", "d", "a", "b"}, "ERR BITOP NOT must be called with a single source key."},
		{[]any{"BITOP", "NAND", "d", "a"}, "ERR syntax error"},
		{[]any{"BITOP", "AND", "d", "str", "list"}, "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{[]any{"BITFIELD", "str", "GET", "u64", 0}, "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."},
		{[]any{"BITFIELD", "str", "OVERFLOW", "BAD"}, "ERR Invalid OVERFLOW type specified"},
		{[]any{"BITFIELD", "str", "GET", "u8"}, "ERR syntax error"},
		{[]any{"BITFIELD", "str", "INCRBY", "u8", 0, "x"}, "ERR value is not an integer or out of range"},
		{[]any{"BITFIELD_RO", "str", "SET", "u8", 0, 1}, "ERR BITFIELD_RO only supports the GET subcommand"},
		{[]any{"BITFIELD", "list", "SET", "u8", 0, 1}, "WRONGTYPE Operation against a key holding the wrong kind of value"},
	} {
		err := rdb.Do(ctx, c.args...).Err()
		if err == nil || err.Error() != c.want {
			t.Errorf("%v: err %v, want %q", c.args, err, c.want)
		}
	}
	eq(t, "str unchanged", ok(t, rdb.Get(ctx, "str")).Val(), "x")
}

func goRedisBitPipeline(t *testing.T, rdb *redis.Client) {
	cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 64 {
			p.SetBit(ctx, "pipe", int64(i*3), 1)
		}
		p.BitCount(ctx, "pipe", nil)
		p.BitPos(ctx, "pipe", 0)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "BITCOUNT in MULTI", cmds[64].(*redis.IntCmd).Val(), int64(64))
	eq(t, "BITPOS in MULTI", cmds[65].(*redis.IntCmd).Val(), int64(1))
}

// A string grown by SETBIT is accounted at its real size.
func TestBitmapMemoryAccounting(t *testing.T) {
	_, addr := startCached(t, nil)
	rdb := newClient(t, addr, 2)
	ok(t, rdb.SetBit(ctx, "big", 8<<20-1, 1)) // 1 MiB
	mem := ok(t, rdb.MemoryUsage(ctx, "big")).Val()
	if mem < 1<<20 || mem > 1<<20+16<<10 {
		t.Fatalf("MEMORY USAGE of a 1 MiB bitmap = %d", mem)
	}
	// Growing bit by bit is amortized: the value never holds more than
	// twice what it needs.
	for i := int64(0); i < 4096; i++ {
		ok(t, rdb.SetBit(ctx, "grow", i*64, 1))
	}
	mem = ok(t, rdb.MemoryUsage(ctx, "grow")).Val()
	if n := int64(4095*8 + 1); mem < n || mem > 2*n+1024 {
		t.Fatalf("MEMORY USAGE of a %d-byte grown bitmap = %d", n, mem)
	}
	info := ok(t, rdb.Info(ctx, "memory")).Val()
	used := int64(0)
	for _, line := range strings.Split(info, "\r\n") {
		if v, found := strings.CutPrefix(line, "used_memory:"); found {
			used, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if used < 1<<20 {
		t.Fatalf("used_memory %d does not count the bitmap", used)
	}
	ok(t, rdb.Del(ctx, "big", "grow"))
}
