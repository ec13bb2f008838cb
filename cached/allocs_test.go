//go:build !race

package cached

import (
	"testing"

	"github.com/anvilstack/anvil/pkg/resp"
)

// The GET/SET path allocates nothing per command once warm: reading an
// existing key, and overwriting it with a value of the same size, through
// parse, dispatch, locking, the handler, the reply and the flush.
func TestAllocsGetSet(t *testing.T) {
	s := benchServer(t)
	c := s.newClient(&discardConn{})
	var batch []byte
	for range 8 {
		batch = resp.AppendCommandString(batch, "SET", "key:1", "0123456789abcdef")
		batch = resp.AppendCommandString(batch, "GET", "key:1")
	}
	runBatch(t, c, batch)
	allocs := testing.AllocsPerRun(200, func() { runBatch(t, c, batch) })
	if allocs != 0 {
		t.Fatalf("%v allocations per batch of 8 SET + 8 GET, want 0", allocs)
	}
	// A SET of a new key costs its entry and its key+value block (and,
	// amortized, the growth of the shard's map and slice).
	batches := make([][]byte, 1000)
	for i := range batches {
		batches[i] = resp.AppendCommandString(nil, "SET", "new:"+itoa(int64(i)), "v")
	}
	n := 0
	allocs = testing.AllocsPerRun(len(batches)-1, func() {
		runBatch(t, c, batches[n])
		n++
	})
	if allocs > 2.5 {
		t.Fatalf("%v allocations for a SET of a new key, want about 2", allocs)
	}
}
