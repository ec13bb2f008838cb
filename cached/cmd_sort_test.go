package cached_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"
)

// SORT and SORT_RO through go-redis, in RESP2 and RESP3.
func TestSortGoRedis(t *testing.T) {
	_, addr := startCached(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp=%d", proto), func(t *testing.T) {
			rdb := newClient(t, addr, proto)
			ok(t, rdb.FlushAll(ctx))
			goRedisSort(t, rdb)
		})
	}
}

func eqList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

func goRedisSort(t *testing.T, rdb *redis.Client) {
	ok(t, rdb.RPush(ctx, "l", 3, 1, 2, 10))
	eqList(t, "SORT", ok(t, rdb.Sort(ctx, "l", &redis.Sort{})).Val(), []string{"1", "2", "3", "10"})
	eqList(t, "SORT DESC LIMIT", ok(t, rdb.Sort(ctx, "l", &redis.Sort{Order: "DESC", Offset: 1, Count: 2})).Val(), []string{"3", "2"})
	eqList(t, "SORT ALPHA", ok(t, rdb.Sort(ctx, "l", &redis.Sort{Alpha: true})).Val(), []string{"1", "10", "2", "3"})
	eqList(t, "SORT_RO", ok(t, rdb.SortRO(ctx, "l", &redis.Sort{Order: "DESC"})).Val(), []string{"10", "3", "2", "1"})
	eqList(t, "BY nosort", ok(t, rdb.Sort(ctx, "l", &redis.Sort{By: "nosort"})).Val(), []string{"3", "1", "2", "10"})

	// BY and GET patterns: string keys and hash fields.
	for i, w := range []int{40, 10, 30, 20} {
		id := strconv.Itoa(i + 1)
		ok(t, rdb.RPush(ctx, "ids", id))
		ok(t, rdb.Set(ctx, "w_"+id, w, 0))
		ok(t, rdb.HSet(ctx, "obj_"+id, "name", "n"+id, "w", -w))
	}
	eqList(t, "BY key", ok(t, rdb.Sort(ctx, "ids", &redis.Sort{By: "w_*"})).Val(), []string{"2", "4", "3", "1"})
	eqList(t, "BY field", ok(t, rdb.Sort(ctx, "ids", &redis.Sort{By: "obj_*->w"})).Val(), []string{"1", "3", "4", "2"})
	eqList(t, "GET", ok(t, rdb.Sort(ctx, "ids", &redis.Sort{By: "w_*", Get: []string{"#", "obj_*->name"}})).Val(),
		[]string{"2", "n2", "4", "n4", "3", "n3", "1", "n1"})
	// A missing GET value is a null (nil in SortInterfaces).
	vals := ok(t, rdb.SortInterfaces(ctx, "ids", &redis.Sort{By: "w_*", Get: []string{"nokey_*"}, Count: 2})).Val()
	if len(vals) != 2 || vals[0] != nil || vals[1] != nil {
		t.Fatalf("GET of missing keys = %#v", vals)
	}

	// STORE writes a list; an empty result deletes the destination.
	eq(t, "STORE", ok(t, rdb.SortStore(ctx, "ids", "dst", &redis.Sort{By: "w_*", Get: []string{"obj_*->name"}})).Val(), int64(4))
	eqList(t, "stored", ok(t, rdb.LRange(ctx, "dst", 0, -1)).Val(), []string{"n2", "n4", "n3", "n1"})
	eq(t, "TYPE", ok(t, rdb.Type(ctx, "dst")).Val(), "list")
	eq(t, "STORE empty", ok(t, rdb.SortStore(ctx, "nokey", "dst", &redis.Sort{})).Val(), int64(0))
	eq(t, "deleted", ok(t, rdb.Exists(ctx, "dst")).Val(), int64(0))

	// Sets and sorted sets.
	ok(t, rdb.SAdd(ctx, "s", "b", "c", "a"))
	eqList(t, "set ALPHA", ok(t, rdb.Sort(ctx, "s", &redis.Sort{Alpha: true})).Val(), []string{"a", "b", "c"})
	eq(t, "set BY nosort STORE", ok(t, rdb.SortStore(ctx, "s", "sd", &redis.Sort{By: "nosort"})).Val(), int64(3))
	eqList(t, "set stored in order", ok(t, rdb.LRange(ctx, "sd", 0, -1)).Val(), []string{"a", "b", "c"})
	ok(t, rdb.ZAdd(ctx, "z", redis.Z{Score: 3, Member: "x"}, redis.Z{Score: 1, Member: "y"}, redis.Z{Score: 2, Member: "w"}))
	eqList(t, "zset BY nosort", ok(t, rdb.Sort(ctx, "z", &redis.Sort{By: "nosort"})).Val(), []string{"y", "w", "x"})
	eqList(t, "zset BY nosort DESC LIMIT", ok(t, rdb.Sort(ctx, "z", &redis.Sort{By: "nosort", Order: "DESC", Count: 2})).Val(), []string{"x", "w"})

	// Errors.
	ok(t, rdb.Set(ctx, "str", "x", 0))
	ok(t, rdb.RPush(ctx, "bad", "a", "1"))
	for _, c := range []struct {
		cmd  redis.Cmder
		want string
	}{
		{rdb.Sort(ctx, "str", &redis.Sort{}), "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{rdb.Sort(ctx, "bad", &redis.Sort{}), "ERR One or more scores can't be converted into double"},
		{rdb.Do(ctx, "SORT", "l", "FOO"), "ERR syntax error"},
		{rdb.Do(ctx, "SORT", "l", "LIMIT", "x", "1"), "ERR value is not an integer or out of range"},
		{rdb.Do(ctx, "SORT_RO", "l", "STORE", "d"), "ERR syntax error"},
	} {
		if err := c.cmd.Err(); err == nil || err.Error() != c.want {
			t.Errorf("%v: %v, want %q", c.cmd.Args(), err, c.want)
		}
	}
	keys := ok(t, rdb.CommandGetKeys(ctx, "sort", "abc", "store", "def")).Val()
	eqList(t, "COMMAND GETKEYS", keys, []string{"abc", "def"})
}

// SORT with BY reads keys in every shard; run it beside writers of those
// keys (the race detector checks the locking).
func TestSortConcurrentWriters(t *testing.T) {
	_, addr := startCached(t, nil)
	rdb := newClient(t, addr, 2)
	for i := 0; i < 200; i++ {
		ok(t, rdb.RPush(ctx, "ids", i))
		ok(t, rdb.Set(ctx, "w_"+strconv.Itoa(i), 200-i, 0))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := newClient(t, addr, 2)
		for n := 0; n < 300; n++ {
			if err := w.Set(ctx, "w_"+strconv.Itoa(n%200), 200-n%200, 0).Err(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for n := 0; n < 30; n++ {
		got := ok(t, rdb.Sort(ctx, "ids", &redis.Sort{By: "w_*", Count: 3})).Val()
		eqList(t, "SORT BY under writes", got, []string{"199", "198", "197"})
	}
	<-done
}
