//go:build !race

package cached

import (
	"strconv"
	"testing"

	"github.com/anvilstack/anvil/pkg/resp"
)

// Reads of hashes and sets allocate nothing per command; writes allocate
// the strings they store (a table's new value, none for a listpack value
// rewritten in place) plus one: store.DB.Updated copies the key to hand it
// to the observer (WATCH and tracking).
func TestAllocsHashSet(t *testing.T) {
	s := benchServer(t)
	c := s.newClient(&discardConn{})
	var setup []byte
	for i := range 1000 {
		setup = resp.AppendCommandString(setup, "HSET", "big", "field:"+strconv.Itoa(i), "v")
		setup = resp.AppendCommandString(setup, "SADD", "bigset", "member:"+strconv.Itoa(i))
	}
	setup = resp.AppendCommandString(setup, "HSET", "small", "a", "1", "b", "2")
	setup = resp.AppendCommandString(setup, "SADD", "ints", "1", "2", "3")
	runBatch(t, c, setup)
	for _, tc := range []struct {
		name  string
		cmd   []string
		allow float64
	}{
		{"HGET listpack", []string{"HGET", "small", "b"}, 0},
		{"HGET hashtable", []string{"HGET", "big", "field:500"}, 0},
		{"HEXISTS hashtable", []string{"HEXISTS", "big", "field:7"}, 0},
		{"HMGET", []string{"HMGET", "big", "field:1", "nope", "field:2"}, 0},
		{"HSET listpack same size", []string{"HSET", "small", "a", "9"}, 1},
		{"HSET hashtable existing", []string{"HSET", "big", "field:3", "w"}, 2},
		{"SISMEMBER intset", []string{"SISMEMBER", "ints", "2"}, 0},
		{"SISMEMBER hashtable", []string{"SISMEMBER", "bigset", "member:999"}, 0},
		{"SADD existing", []string{"SADD", "bigset", "member:5"}, 0},
		{"SCARD", []string{"SCARD", "bigset"}, 0},
	} {
		batch := resp.AppendCommandString(nil, tc.cmd...)
		runBatch(t, c, batch)
		if allocs := testing.AllocsPerRun(200, func() { runBatch(t, c, batch) }); allocs > tc.allow {
			t.Errorf("%s: %v allocations per command, want <= %v", tc.name, allocs, tc.allow)
		}
	}
}
