package cached_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// COMMAND INFO of every command cached has equals redis-server's, in
// RESP2 and RESP3: name, arity, flags, key positions, ACL categories,
// tips and key specifications, and the entries of the subcommands cached
// implements (Redis lists those in hash order, so they are matched by
// name).
func TestCommandInfoMatchesRedis(t *testing.T) {
	redisAddr := startRedis(t)
	_, cachedAddr := startCached(t, nil)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ours, ref := newClient(t, cachedAddr, proto), newClient(t, redisAddr, proto)
			names, err := ours.Do(ctx, "COMMAND", "LIST").StringSlice()
			if err != nil {
				t.Fatal(err)
			}
			compared := 0
			for _, name := range names {
				if strings.Contains(name, "|") {
					continue // compared with its container
				}
				a, err := ours.Do(ctx, "COMMAND", "INFO", name).Slice()
				if err != nil {
					t.Fatal(err)
				}
				b, err := ref.Do(ctx, "COMMAND", "INFO", name).Slice()
				if err != nil {
					t.Fatal(err)
				}
				ia, _ := a[0].([]any)
				ib, _ := b[0].([]any)
				if ia == nil {
					t.Errorf("COMMAND INFO %s: nil from cached", name)
					continue
				}
				if ib == nil {
					t.Logf("%s: not a command of redis-server 7.0 (newer Redis)", name)
					continue
				}
				compared += compareInfo(t, name, ia, ib)
			}
			t.Logf("%d command entries compared", compared)
		})
	}
}

// compareInfo compares one COMMAND INFO entry and its subcommands'; it
// returns how many entries it compared.
func compareInfo(t *testing.T, name string, a, b []any) int {
	t.Helper()
	if len(a) != len(b) {
		t.Errorf("%s: %d elements, redis-server %d", name, len(a), len(b))
		return 1
	}
	for k := 0; k < 9; k++ {
		if !reflect.DeepEqual(a[k], b[k]) {
			t.Errorf("%s element %d:\n cached %v\n redis  %v", name, k+1, a[k], b[k])
		}
	}
	n := 1
	refSubs := map[any][]any{}
	for _, s := range b[9].([]any) {
		e := s.([]any)
		refSubs[e[0]] = e
	}
	for _, s := range a[9].([]any) {
		e := s.([]any)
		r, ok := refSubs[e[0]]
		if !ok {
			t.Logf("%s: not a command of redis-server 7.0 (newer Redis)", e[0])
			continue
		}
		n += compareInfo(t, fmt.Sprint(e[0]), e, r)
	}
	return n
}
