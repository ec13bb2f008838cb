//go:build !race

package cached

import (
	"testing"

	"github.com/anvilstack/anvil/pkg/resp"
)

// The read paths and in-place updates of sorted sets allocate nothing
// per command once warm (parse, dispatch, locking, handler, reply,
// flush), in both encodings; adding a member costs its own memory only.
func TestAllocsZSet(t *testing.T) {
	c := zsetBenchClient(t, 5000)
	for _, tc := range []struct {
		name string
		cmds [][]string
		max  float64
	}{
		{"ZSCORE", [][]string{{"ZSCORE", "large", "member:42"}, {"ZSCORE", "small", "member:42"}}, 0},
		{"ZMSCORE", [][]string{{"ZMSCORE", "large", "member:1", "member:2", "nosuch"}}, 0},
		{"ZRANK", [][]string{{"ZRANK", "large", "member:42"}, {"ZREVRANK", "small", "member:42"}}, 0},
		{"ZCARD+ZCOUNT", [][]string{{"ZCARD", "large"}, {"ZCOUNT", "large", "(10", "+inf"}, {"ZLEXCOUNT", "small", "-", "+"}}, 0},
		{"ZRANGE", [][]string{{"ZRANGE", "large", "100", "109", "WITHSCORES"}, {"ZRANGE", "small", "0", "-1"}}, 0},
		{"ZRANGEBYSCORE", [][]string{{"ZRANGEBYSCORE", "large", "5", "+inf", "LIMIT", "0", "10"}, {"ZREVRANGEBYSCORE", "small", "50", "(10", "WITHSCORES"}}, 0},
		{"ZADD-same-score", [][]string{{"ZADD", "large", "4242", "member:3"}, {"ZADD", "small", "42", "member:42"}}, 0},
		{"ZINCRBY-in-place", [][]string{{"ZINCRBY", "large", "0.5", "member:3"}, {"ZINCRBY", "large", "-0.5", "member:3"}}, 0},
	} {
		var batch []byte
		for _, cmd := range tc.cmds {
			batch = resp.AppendCommandString(batch, cmd...)
		}
		runBatch(t, c, batch)
		// Updated re-accounts the key: the core's DB.Updated converts the
		// key to []byte for the modification hooks (1 small allocation).
		max := tc.max
		if tc.name == "ZINCRBY-in-place" {
			max = 2
		}
		allocs := testing.AllocsPerRun(200, func() { runBatch(t, c, batch) })
		t.Logf("%s: %v allocations per batch of %d", tc.name, allocs, len(tc.cmds))
		if allocs > max {
			t.Errorf("%s: %v allocations per batch, want at most %v", tc.name, allocs, max)
		}
	}
}
