package kvd

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anvilstack/anvil/kvd/placement"
)

// Three nodes replicate every shard three times, any node serves any key,
// and leaderships are spread over the nodes.
func TestClusterReplicatesAndBalances(t *testing.T) {
	c := startCluster(t, 3, 6, nil)
	st, err := clusterStatus(c.api(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range st.ShardMap {
		if len(sh.Replicas) != 3 || len(sh.Voters) != 3 || sh.Leader == "" {
			t.Fatalf("shard %d: replicas %v voters %v leader %q", sh.ID, sh.Replicas, sh.Voters, sh.Leader)
		}
	}
	for i := 0; i < 30; i++ {
		k := fmt.Sprintf("k%d", i)
		newKVC(t, c.api(i%3)).mustPut(k, "v"+k)
		for n := 0; n < 3; n++ {
			if r := newKVC(t, c.api(n)).get(k, ""); r.status != 200 || string(r.body) != "v"+k {
				t.Fatalf("get %s via node %d: %d %s", k, n, r.status, r.body)
			}
		}
	}
	poll(t, 20*time.Second, "leaderships spread over the three nodes", func() bool {
		st, err := clusterStatus(c.api(0))
		if err != nil {
			return false
		}
		for _, n := range st.Nodes {
			if n.Leads != 2 {
				return false
			}
		}
		return true
	})
}

// A shard's leader is stopped while clients write through every node:
// writes resume under a new leader, and every acknowledged write is there.
func TestLeaderFailoverUnderWriteLoad(t *testing.T) {
	c := startCluster(t, 3, 2, nil)
	var acked sync.Map
	var stop atomic.Bool
	var wg sync.WaitGroup
	var ok, unavailable atomic.Int64
	for w := 0; w < 6; w++ {
		wg.Go(func() {
			cl := newKVC(t, c.api(w%3))
			for i := 0; !stop.Load(); i++ {
				k := fmt.Sprintf("w%d-%d", w, i)
				node := w % 3
				if c.svc(node) == nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				r := cl.tryPut(k, k)
				switch r.status {
				case 200:
					acked.Store(k, r.revision(t))
					ok.Add(1)
				case 503:
					unavailable.Add(1)
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	victim := -1
	poll(t, 10*time.Second, "a leader for shard 0", func() bool { victim = c.leaderOf(0); return victim >= 0 })
	before := ok.Load()
	c.stop(victim)
	poll(t, 10*time.Second, "writes to resume after the leader stopped", func() bool { return ok.Load() > before+50 })
	stop.Store(true)
	wg.Wait()
	survivor := (victim + 1) % 3
	n := 0
	acked.Range(func(k, rev any) bool {
		n++
		r := newKVC(t, c.api(survivor)).get(k.(string), "")
		if r.status != 200 || string(r.body) != k.(string) || r.revision(t) != rev.(uint64) {
			t.Errorf("acknowledged write %s@%d: got %d %q rev %s", k, rev, r.status, r.body, r.hdr.Get("Kv-Revision"))
		}
		return true
	})
	t.Logf("%d acknowledged writes checked, %d answered 503 during failover", n, unavailable.Load())
	if placement.ShardOf([]byte("x"), 2) < 0 {
		t.Fatal("unreachable")
	}
}
