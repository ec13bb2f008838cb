package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/anvilstack/anvil/kvd"
	"github.com/anvilstack/anvil/pkg/daemontest"
)

// TestMain lets this test binary stand in for the kvd binary (through a
// symlink named kvd), so anvil cluster up runs real kvd processes without
// a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("ANVIL_TEST_AS_KVD") == "1" {
		os.Exit(kvd.Spec().Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func kvdBinDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(dir, "kvd")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ANVIL_TEST_AS_KVD", "1")
	return dir
}

func runApp(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	out, errb := &daemontest.Buffer{}, &daemontest.Buffer{}
	a := &app{stdout: out, stderr: errb, defs: daemons()}
	code := a.run(args)
	return code, out.String(), errb.String()
}

// anvil cluster up starts three kvd processes, prints the contract's JSON,
// anvil kv works against them, and anvil cluster down stops them all.
func TestClusterUpKVDown(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := kvdBinDir(t)
	dir := t.TempDir()
	code, out, errOut := runApp(t, "cluster", "up", "--kvd", "3", "--shards", "2", "--random-ports", "--json", "--dir", dir, "--bin", bin)
	if code != 0 {
		t.Fatalf("cluster up: exit %d\n%s", code, errOut)
	}
	var doc struct {
		Nodes []struct {
			Daemon, Name, API, Admin, Raft, Gossip string
			PID                                    int
			DataDir                                string   `json:"data_dir"`
			Argv                                   []string `json:"argv"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		for _, n := range doc.Nodes {
			_ = syscall.Kill(n.PID, syscall.SIGKILL) // in case down failed
		}
	})
	if len(doc.Nodes) != 3 {
		t.Fatalf("%d nodes", len(doc.Nodes))
	}
	for i, n := range doc.Nodes {
		if n.Daemon != "kvd" || n.Name != "kvd-"+string(rune('0'+i)) || n.PID <= 0 || n.API == "" || n.Admin == "" ||
			n.Raft == "" || n.Gossip == "" || n.DataDir == "" || len(n.Argv) < 2 || !strings.Contains(strings.Join(n.Argv, " "), n.API) {
			t.Fatalf("node %d: %+v", i, n)
		}
	}
	api := doc.Nodes[1].API
	if code, out, e := runApp(t, "kv", "--addr", api, "put", "greeting", "hello"); code != 0 || strings.TrimSpace(out) == "" {
		t.Fatalf("kv put: %d %q %s", code, out, e)
	}
	if code, out, e := runApp(t, "kv", "--addr", doc.Nodes[2].API, "get", "greeting"); code != 0 || out != "hello\n" {
		t.Fatalf("kv get: %d %q %s", code, out, e)
	}
	if code, _, e := runApp(t, "kv", "--addr", api, "put", "greeting", "x", "--prev-revision", "999"); code != 1 || !strings.Contains(e, "current revision") {
		t.Fatalf("kv put with a wrong revision: %d %s", code, e)
	}
	if code, out, _ := runApp(t, "kv", "--addr", api, "scan", "--prefix", "greet"); code != 0 || !strings.Contains(out, `"key":"greeting"`) {
		t.Fatalf("kv scan: %d %s", code, out)
	}
	if code, out, _ := runApp(t, "kv", "--addr", api, "cluster"); code != 0 || !strings.Contains(out, `"healthy": true`) {
		t.Fatalf("kv cluster: %d %s", code, out)
	}
	if code, out, _ := runApp(t, "kv", "--addr", api, "del", "greeting"); code != 0 || !strings.Contains(out, "deleted=true") {
		t.Fatalf("kv del: %d %s", code, out)
	}
	if code, _, e := runApp(t, "kv", "--addr", api, "get", "greeting"); code != 1 || !strings.Contains(e, "not found") {
		t.Fatalf("kv get of a deleted key: %d %s", code, e)
	}
	// a second up on the same directory refuses
	if code, _, e := runApp(t, "cluster", "up", "--kvd", "1", "--random-ports", "--dir", dir, "--bin", bin); code != 1 || !strings.Contains(e, "already running") {
		t.Fatalf("second cluster up: %d %s", code, e)
	}
	code, out, errOut = runApp(t, "cluster", "down", "--dir", dir)
	if code != 0 || strings.Count(out, "stopped") != 3 {
		t.Fatalf("cluster down: %d %s %s", code, out, errOut)
	}
	for _, n := range doc.Nodes {
		if isNodeProcess(n.PID, n.DataDir) {
			if st, _ := os.ReadFile("/proc/" + itoa(n.PID) + "/stat"); !strings.Contains(string(st), ") Z") {
				t.Fatalf("%s (pid %d) still running after down", n.Name, n.PID)
			}
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestClusterUsage(t *testing.T) {
	if code, _, e := runApp(t, "cluster", "up"); code != 2 || !strings.Contains(e, "--kvd N") {
		t.Fatalf("up without nodes: %d %s", code, e)
	}
	if code, _, e := runApp(t, "cluster", "up", "--queued", "2"); code != 2 || !strings.Contains(e, "does not run as a multi-node cluster yet") {
		t.Fatalf("up --queued: %d %s", code, e)
	}
	if code, _, e := runApp(t, "cluster", "down", "--dir", t.TempDir()); code != 1 || !strings.Contains(e, "no cluster") {
		t.Fatalf("down with nothing up: %d %s", code, e)
	}
	if code, _, _ := runApp(t, "kv", "frob"); code != 2 {
		t.Fatalf("kv frob: %d", code)
	}
}
