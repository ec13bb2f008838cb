package kvd

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// An operator removes a stopped node; its replicas are placed on the
// remaining node and every shard is back to three voters without it.
func TestRemovedNodeIsReplaced(t *testing.T) {
	c := startCluster(t, 4, 4, nil)
	for i := 0; i < 20; i++ {
		newKVC(t, c.api(0)).mustPut(fmt.Sprint("key", i), fmt.Sprint(i))
	}
	st, _ := clusterStatus(c.api(0))
	victim := -1
	for i := 1; i < 4 && victim < 0; i++ {
		for _, n := range st.Nodes {
			if n.Name == fmt.Sprintf("n%d", i) && n.Replicas > 0 {
				victim = i
			}
		}
	}
	if victim < 0 {
		t.Fatalf("no node besides n0 hosts a replica: %+v", st.Nodes)
	}
	name := fmt.Sprintf("n%d", victim)
	c.stop(victim)
	req, _ := http.NewRequest("DELETE", "http://"+c.admin(0)+"/v1/cluster/nodes/"+name, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("remove %s: %v %v", name, err, resp)
	}
	resp.Body.Close()
	poll(t, 30*time.Second, "every shard back to three voters without "+name, func() bool {
		for i := 0; i < 4; i++ {
			if i == victim {
				continue
			}
			st, err := clusterStatus(c.api(i))
			if err != nil || !st.Healthy {
				return false
			}
			for _, sh := range st.ShardMap {
				if len(sh.Replicas) != 3 || slices.Contains(sh.Replicas, name) || (sh.Voters != nil && slices.Contains(sh.Voters, name)) {
					return false
				}
			}
		}
		return true
	})
	for i := 0; i < 20; i++ {
		if r := newKVC(t, c.api((victim+1)%4)).get(fmt.Sprint("key", i), ""); r.status != 200 || string(r.body) != fmt.Sprint(i) {
			t.Fatalf("key%d after the replacement: %d %s", i, r.status, r.body)
		}
	}
	req, _ = http.NewRequest("DELETE", "http://"+c.admin(0)+"/v1/cluster/nodes/nobody", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Fatalf("removing an unknown node: %v %v", err, resp)
	}
}

// A node that was down while its shards compacted their logs catches up
// through a snapshot install, with its data directory kept.
func TestSnapshotInstallToLaggingNode(t *testing.T) {
	c := startCluster(t, 3, 1, func(i int, cfg *Config) {
		cfg.Tuning.SnapshotThreshold = 64
		cfg.Tuning.TrailingLogs = 16
		cfg.Tuning.SnapshotInterval = 20 * time.Millisecond
	})
	lagger := (c.leaderOf(0) + 1) % 3
	cl := newKVC(t, c.api((lagger+1)%3))
	cl.mustPut("before", "1")
	c.stop(lagger)
	for i := 0; i < 400; i++ {
		cl.mustPut(fmt.Sprintf("k%03d", i), fmt.Sprint(i))
	}
	leader := c.svc(c.leaderOf(0))
	poll(t, 10*time.Second, "the leader to snapshot and compact", func() bool {
		return leader.group(0).fsm.Snapshots.Load() > 0
	})
	c.start(lagger)
	s := c.svc(lagger)
	poll(t, 20*time.Second, "the restarted node to catch up", func() bool {
		g := s.group(0)
		return g != nil && g.fsm.Applied() >= leader.group(0).fsm.Applied()
	})
	if s.group(0).fsm.Restores.Load() == 0 {
		t.Fatal("the lagging node caught up without a snapshot install")
	}
	lc := newKVC(t, c.api(lagger))
	for _, k := range []string{"before", "k000", "k399"} {
		if r := lc.get(k, "?consistency=stale"); r.status != 200 {
			t.Fatalf("stale read of %s on the caught-up node: %d", k, r.status)
		}
	}
}

// Every acknowledged write survives a restart of every node.
func TestFullClusterRestart(t *testing.T) {
	c := startCluster(t, 3, 3, nil)
	acked := map[string]uint64{}
	for i := 0; i < 60; i++ {
		k := fmt.Sprint("r", i)
		acked[k] = newKVC(t, c.api(i%3)).mustPut(k, k)
	}
	for i := range 3 {
		c.stop(i)
	}
	for i := range 3 {
		c.start(i)
	}
	c.waitHealthy(30 * time.Second)
	for k, rev := range acked {
		r := newKVC(t, c.api(1)).get(k, "")
		if r.status != 200 || string(r.body) != k || r.revision(t) != rev {
			t.Fatalf("%s@%d after the restart: %d %q %s", k, rev, r.status, r.body, r.hdr.Get("Kv-Revision"))
		}
	}
	// revisions keep increasing after the restart
	if rev := newKVC(t, c.api(2)).mustPut("r0", "again"); rev <= acked["r0"] {
		t.Fatalf("write after restart: rev %d (was %d)", rev, acked["r0"])
	}
}
