package kvd

import (
	"fmt"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// A node that does not lead the shard forwards every kind of request to
// the leader over the Raft mux and relays each reply as the leader would
// give it: revisions, 404, 412 with the current revision, deletes, 400s.
func TestForwardedReplies(t *testing.T) {
	c := startCluster(t, 3, 1, nil)
	leader := c.leaderOf(0)
	other := (leader + 1) % 3
	cl := newKVC(t, c.api(other))
	r := cl.put("k", "v1", "")
	if r.status != 200 || r.revision(t) != 1 {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	r = cl.get("k", "")
	if r.status != 200 || string(r.body) != "v1" || r.hdr.Get("Kv-Revision") != "1" || r.hdr.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("get: %d %q %v", r.status, r.body, r.hdr)
	}
	r = cl.put("k", "v2", "?prev_revision=7")
	if r.status != 412 || r.revision(t) != 1 {
		t.Fatalf("stale CAS: %d %s", r.status, r.body)
	}
	r = cl.put("k", "v2", "?prev_revision=1&ttl=1h")
	if r.status != 200 || r.revision(t) != 2 {
		t.Fatalf("CAS: %d %s", r.status, r.body)
	}
	r = cl.del("k", "")
	if m := r.json(t); r.status != 200 || m["deleted"] != true || m["revision"] != 3.0 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	r = cl.del("k", "")
	if m := r.json(t); r.status != 200 || m["deleted"] != false {
		t.Fatalf("delete of an absent key: %d %s", r.status, r.body)
	}
	if r = cl.get("k", ""); r.status != 404 {
		t.Fatalf("get after delete: %d %s", r.status, r.body)
	}
	if r = cl.del("k", "?prev_revision=2"); r.status != 412 || r.revision(t) != 0 {
		t.Fatalf("CAS delete of an absent key: %d %s", r.status, r.body)
	}
	if r = cl.put("", "x", ""); r.status != 400 {
		t.Fatalf("empty key: %d %s", r.status, r.body)
	}
	s := c.svc(other)
	if n := counterValue(t, s.m.forwards.ok); n < 8 {
		t.Fatalf("%v requests forwarded by node %d, want 8", n, other)
	}
	if n := counterValue(t, s.m.proposals); n != 0 {
		t.Fatalf("node %d, not the leader, proposed %v writes", other, n)
	}
}

// Concurrent writes to one shard share Raft rounds (entries carrying
// several writes), and each still gets its own revision: all distinct,
// and increasing in the order of any one writer.
func TestConcurrentWritesShareRounds(t *testing.T) {
	c := startCluster(t, 3, 1, nil)
	const writers, each = 24, 15
	revs := make([][]uint64, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			cl := newKVC(t, c.api(w%3))
			for i := range each {
				revs[w] = append(revs[w], cl.mustPut(fmt.Sprintf("w%d", w%4), fmt.Sprint(i)))
			}
		})
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for w := range revs {
		for i, r := range revs[w] {
			if seen[r] || (i > 0 && r <= revs[w][i-1]) {
				t.Fatalf("writer %d: revision %d repeated or out of order: %v", w, r, revs[w])
			}
			seen[r] = true
		}
	}
	s := c.svc(c.leaderOf(0))
	proposals, rounds := counterValue(t, s.m.proposals), counterValue(t, s.m.writeRounds)
	t.Logf("%v writes in %v rounds", proposals, rounds)
	if proposals < writers*each || rounds >= proposals {
		t.Fatalf("%v writes in %v rounds: no round carried more than one", proposals, rounds)
	}
}
