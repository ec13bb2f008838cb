package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/anvilstack/anvil/pkg/clustertest"
)

const clusterUsage = `anvil cluster runs a multi-node cluster on loopback, each node its own
process (the daemon's binary), for integration tests and CI.

Usage:
  anvil cluster up --kvd N [--dir DIR] [--json] [--shards N] [--replicas N]
                   [--random-ports] [--bin DIR]
  anvil cluster down [--dir DIR]

Node i of a daemon gets each of the daemon's default ports + 10*i (kvd:
API 7070, Raft 7071, gossip 7072, admin 9105), unless --random-ports. "up"
returns once the cluster is healthy and leaves the nodes running, each with
GOMAXPROCS set to its share of the CPUs (unless GOMAXPROCS is set); the
state is kept in DIR/cluster.json (default DIR: .anvil/cluster), and each
node's log in DIR/<name>.log. The argv printed for a node restarts it with
its data.
`

// clusterDaemons are the daemons anvil cluster knows how to run as a
// cluster, with node 0's API, Raft, gossip and admin ports.
var clusterDaemons = map[string][4]int{
	"kvd": {7070, 7071, 7072, 9105},
}

func (a *app) cluster(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, clusterUsage)
		return 2
	}
	switch args[0] {
	case "up":
		return a.clusterUp(args[1:])
	case "down":
		return a.clusterDown(args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(a.stdout, clusterUsage)
		return 0
	}
	fmt.Fprintf(a.stderr, "anvil cluster: unknown command %q\n\n%s", args[0], clusterUsage)
	return 2
}

func (a *app) clusterUp(args []string) int {
	fs := flag.NewFlagSet("anvil cluster up", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	counts := map[string]*int{}
	for _, name := range []string{"dnsd", "lbd", "cached", "queued", "kvd", "gatewayd"} {
		counts[name] = fs.Int(name, 0, "run `N` "+name+" nodes")
	}
	dir := fs.String("dir", filepath.Join(".anvil", "cluster"), "`directory` for the nodes' data, logs and cluster.json")
	asJSON := fs.Bool("json", false, "print the nodes as JSON (CONTRACT.md)")
	shards := fs.Int("shards", 0, "kvd: shard count (default: kvd's)")
	replicas := fs.Int("replicas", 0, "kvd: replicas per shard (default: kvd's)")
	random := fs.Bool("random-ports", false, "every node on free ports instead of the default layout")
	binDir := fs.String("bin", "", "`directory` holding the daemon binaries (default: next to anvil, then $PATH)")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long to wait for a healthy cluster")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	total := 0
	for name, n := range counts {
		if *n < 0 {
			fmt.Fprintf(a.stderr, "anvil cluster up: --%s must not be negative\n", name)
			return 2
		}
		if *n > 0 {
			if _, ok := clusterDaemons[name]; !ok {
				fmt.Fprintf(a.stderr, "anvil cluster up: --%s: %s does not run as a multi-node cluster yet (supported: kvd)\n", name, name)
				return 2
			}
		}
		total += *n
	}
	if total == 0 {
		fmt.Fprintln(a.stderr, "anvil cluster up: nothing to run; give --kvd N")
		return 2
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		fmt.Fprintf(a.stderr, "anvil cluster up: %v\n", err)
		return 2
	}
	state := filepath.Join(abs, "cluster.json")
	if old, err := clustertest.Load(state); err == nil && len(old.Running()) > 0 {
		fmt.Fprintf(a.stderr, "anvil cluster up: a cluster is already running from %s; run anvil cluster down --dir %s\n", state, *dir)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	all := &clustertest.Cluster{}
	for _, name := range []string{"kvd"} {
		n := *counts[name]
		if n == 0 {
			continue
		}
		bin, err := findBinary(*binDir, name)
		if err != nil {
			fmt.Fprintf(a.stderr, "anvil cluster up: %v\n", err)
			return 1
		}
		o := clustertest.Options{Daemon: name, Binary: bin, Dir: abs, Nodes: n, Detach: true, Ready: *timeout}
		// The nodes share this machine: each gets its share of the CPUs,
		// as it would have its own machine's, unless GOMAXPROCS is set.
		// (On 2 cores, three nodes each scheduling on both spend much of
		// their time waking each other's threads.)
		if os.Getenv("GOMAXPROCS") == "" {
			o.Env = append(o.Env, "GOMAXPROCS="+strconv.Itoa(max(1, runtime.NumCPU()/total)))
		}
		if !*random {
			o.BasePorts = clusterDaemons[name]
		}
		if *shards > 0 {
			o.Args = append(o.Args, "-shards", strconv.Itoa(*shards))
		}
		if *replicas > 0 {
			o.Args = append(o.Args, "-replicas", strconv.Itoa(*replicas))
		}
		c, err := clustertest.Start(ctx, o)
		if err != nil {
			all.Kill()
			fmt.Fprintf(a.stderr, "anvil cluster up: %s: %v\n", name, err)
			return 1
		}
		all.Nodes = append(all.Nodes, c.Nodes...)
	}
	var buf bytes.Buffer
	if err := all.WriteJSON(&buf); err != nil {
		fmt.Fprintf(a.stderr, "anvil cluster up: %v\n", err)
		return 1
	}
	if err := os.WriteFile(state, buf.Bytes(), 0o644); err != nil {
		all.Kill()
		fmt.Fprintf(a.stderr, "anvil cluster up: %v\n", err)
		return 1
	}
	if *asJSON {
		_, _ = a.stdout.Write(buf.Bytes())
		return 0
	}
	fmt.Fprintf(a.stdout, "anvil: %d nodes healthy; state in %s; stop with: anvil cluster down --dir %s\n\n", len(all.Nodes), state, *dir)
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tPID\tAPI\tRAFT\tGOSSIP\tADMIN\tLOG")
	for _, n := range all.Nodes {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.PID, n.API, n.Raft, n.Gossip, n.Admin, n.Log)
	}
	tw.Flush()
	var apis []string
	for _, n := range all.Nodes {
		if n.Daemon == "kvd" {
			apis = append(apis, n.API)
		}
	}
	if len(apis) > 0 {
		fmt.Fprintf(a.stdout, "\nFor your app:\nexport KVD_ADDR=%s\n", strings.Join(apis, ","))
	}
	return 0
}

// findBinary locates a daemon's executable: in dir if given, else next to
// this executable, else on $PATH.
func findBinary(dir, name string) (string, error) {
	if dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("no %s binary in %s (make build puts it in ./bin)", name, dir)
		}
		return filepath.Abs(p)
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("no %s binary next to anvil or on $PATH (make build, or --bin DIR)", name)
	}
	return filepath.Abs(p)
}

func (a *app) clusterDown(args []string) int {
	fs := flag.NewFlagSet("anvil cluster down", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	dir := fs.String("dir", filepath.Join(".anvil", "cluster"), "the `directory` given to anvil cluster up")
	purge := fs.Bool("purge", false, "also delete the nodes' data and logs")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	state := filepath.Join(*dir, "cluster.json")
	c, err := clustertest.Load(state)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(a.stderr, "anvil cluster down: no cluster in %s\n", *dir)
			return 1
		}
		fmt.Fprintf(a.stderr, "anvil cluster down: %v\n", err)
		return 1
	}
	code := 0
	for i, n := range c.Nodes {
		// Only signal a pid that is still this node: pids are reused.
		if !isNodeProcess(n.PID, n.DataDir) {
			fmt.Fprintf(a.stdout, "%s: not running\n", n.Name)
			continue
		}
		_ = syscall.Kill(n.PID, syscall.SIGCONT)
		if err := c.Stop(i); err != nil {
			fmt.Fprintf(a.stderr, "anvil cluster down: %s: %v (killed)\n", n.Name, err)
			code = 1
			continue
		}
		fmt.Fprintf(a.stdout, "%s: stopped (pid %d)\n", n.Name, n.PID)
	}
	if *purge {
		for _, n := range c.Nodes {
			_ = os.RemoveAll(n.DataDir)
			_ = os.Remove(n.Log)
		}
	}
	_ = os.Remove(state)
	return code
}

// isNodeProcess reports whether pid runs with dataDir on its command line.
func isNodeProcess(pid int, dataDir string) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	for _, arg := range bytes.Split(b, []byte{0}) {
		if string(arg) == dataDir {
			return true
		}
	}
	return false
}
