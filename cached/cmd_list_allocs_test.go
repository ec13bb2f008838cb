//go:build !race

package cached

import (
	"testing"

	"github.com/anvilstack/anvil/pkg/resp"
)

// List reads allocate nothing per command once warm (parse, dispatch,
// locking, handler, reply, flush); a push and a pop together cost at
// most the modification hooks' key conversion; PUBLISH to a channel
// with no subscriber allocates nothing.
func TestAllocsList(t *testing.T) {
	s := benchServer(t)
	c := s.newClient(&discardConn{})
	var fill []byte
	for i := range 1000 {
		fill = resp.AppendCommandString(fill, "RPUSH", "big", "element:"+itoa(int64(i)))
	}
	fill = resp.AppendCommandString(fill, "RPUSH", "q", "a", "b", "c")
	runBatch(t, c, fill)
	for _, tc := range []struct {
		name string
		cmds [][]string
		max  float64
	}{
		{"LLEN+LINDEX", [][]string{{"LLEN", "big"}, {"LINDEX", "big", "500"}, {"LINDEX", "big", "-1"}}, 0},
		{"LRANGE", [][]string{{"LRANGE", "big", "100", "109"}, {"LRANGE", "q", "0", "-1"}}, 0},
		{"LPOS", [][]string{{"LPOS", "big", "element:900"}, {"LPOS", "big", "element:10", "RANK", "-1", "COUNT", "0"}}, 0},
		{"RPUSH+LPOP", [][]string{{"RPUSH", "q", "element"}, {"LPOP", "q"}}, 2},
		{"LMOVE", [][]string{{"LMOVE", "q", "q", "LEFT", "RIGHT"}}, 1},
		{"PUBLISH-nobody", [][]string{{"PUBLISH", "channel", "message"}}, 0},
	} {
		var batch []byte
		for _, cmd := range tc.cmds {
			batch = resp.AppendCommandString(batch, cmd...)
		}
		runBatch(t, c, batch)
		allocs := testing.AllocsPerRun(200, func() { runBatch(t, c, batch) })
		t.Logf("%s: %v allocations per batch of %d", tc.name, allocs, len(tc.cmds))
		if allocs > tc.max {
			t.Errorf("%s: %v allocations per batch, want at most %v", tc.name, allocs, tc.max)
		}
	}
}
