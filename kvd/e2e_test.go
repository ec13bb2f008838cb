package kvd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/clustertest"
)

// TestMain lets the test binary act as the kvd binary, so the process tests
// run real kvd processes without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("KVD_TEST_AS_DAEMON") == "1" {
		os.Exit(Spec().Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startProcesses starts n kvd processes (this test binary as kvd).
func startProcesses(t *testing.T, n int, args ...string) *clustertest.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"-shards", "2"}
	c, err := clustertest.Start(ctx, clustertest.Options{
		Daemon: "kvd",
		Binary: os.Args[0],
		Env:    []string{"KVD_TEST_AS_DAEMON=1"},
		Dir:    t.TempDir(),
		Nodes:  n,
		Args:   append(base, args...),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("stopping the cluster: %v", err)
		}
		if t.Failed() {
			for _, n := range c.Nodes {
				b, _ := os.ReadFile(n.Log)
				t.Logf("=== %s log (last lines)\n%s", n.Name, tail(b, 30))
			}
		}
	})
	return c
}

func tail(b []byte, n int) string {
	lines := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			if lines++; lines > n {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}

// A node killed with SIGKILL misses writes, is restarted from its argv
// with its data directory, rejoins and catches up.
func TestProcessKill9AndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	c := startProcesses(t, 3)
	cl := newKVC(t, c.Nodes[0].API)
	for i := 0; i < 20; i++ {
		cl.mustPut(fmt.Sprint("before", i), "x")
	}
	if err := c.Kill9(1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		cl.mustPut(fmt.Sprint("during", i), "y")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.Restart(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHealthy(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	n1 := newKVC(t, c.Nodes[1].API)
	poll(t, 20*time.Second, "the restarted node to have every write locally", func() bool {
		for i := 0; i < 20; i++ {
			for _, k := range []string{fmt.Sprint("before", i), fmt.Sprint("during", i)} {
				if n1.get(k, "?consistency=stale").status != 200 {
					return false
				}
			}
		}
		return true
	})
}

// Linearizability with real processes: clients call every node while a
// nemesis kills (-9) and restarts nodes and pauses them (SIGSTOP/SIGCONT);
// then every node is killed and restarted, and a final read of every key
// joins the history, so a lost acknowledged write is a violation too.
// KVD_NEMESIS_LONG=1 runs a minute of faults.
func TestProcessNemesisLinearizable(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dur := 5 * time.Second
	if os.Getenv("KVD_NEMESIS_LONG") != "" {
		dur = time.Minute
	}
	c := startProcesses(t, 3, "-shards", "2")
	h := &history{}
	keys := []string{"a", "b", "c", "d"}
	stop := make(chan struct{})
	addrs := func() []string {
		var out []string
		for i := range c.Nodes {
			out = append(out, c.API(i))
		}
		return out
	}
	wg := workload(stop, 6, keys, addrs, h, 2*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r := rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano())))
	var faults []string
	for end := time.Now().Add(dur); time.Now().Before(end); {
		time.Sleep(time.Duration(300+r.IntN(400)) * time.Millisecond)
		victim := r.IntN(3)
		if r.IntN(2) == 0 {
			faults = append(faults, fmt.Sprintf("kill -9 %d", victim))
			if err := c.Kill9(victim); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(100+r.IntN(400)) * time.Millisecond)
			if err := c.Restart(ctx, victim); err != nil {
				t.Fatal(err)
			}
		} else {
			faults = append(faults, fmt.Sprintf("pause %d", victim))
			if err := c.Pause(victim); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(300+r.IntN(700)) * time.Millisecond)
			if err := c.Resume(victim); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("faults: %v", faults)
	// Every node dies at once and comes back: acknowledged writes stay.
	for i := range c.Nodes {
		if err := c.Kill9(i); err != nil {
			t.Fatal(err)
		}
	}
	for i := range c.Nodes {
		if err := c.Restart(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitHealthy(ctx, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	caller := newKVCaller(10 * time.Second)
	for _, k := range keys {
		call := h.now()
		out, _ := caller.call(ctx, c.API(r.IntN(3)), kvInput{kind: opGet, key: k})
		if out.unknown {
			t.Fatalf("final read of %s failed after the restart", k)
		}
		h.add(99, kvInput{kind: opGet, key: k}, out, call)
	}
	checkHistory(t, h.operations())
}
