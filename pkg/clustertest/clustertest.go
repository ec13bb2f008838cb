// Package clustertest runs a multi-node cluster of an Anvil daemon as real
// OS processes on loopback: it starts the nodes (the first creates the
// cluster, the others join it through its gossip address), waits until the
// cluster reports itself healthy, and lets tests and tools kill (SIGKILL),
// stop (SIGTERM), pause (SIGSTOP), resume and restart any node with its
// data directory intact. `anvil cluster up` is built on it, and so are
// kvd's process-level tests.
//
// It knows daemons only by their flags and admin/API HTTP endpoints, never
// by importing them: a node is healthy when GET /v1/cluster on its API
// answers {"healthy": true}.
package clustertest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Node is one daemon process. The JSON names are the contract's (the
// output of `anvil cluster up --json`).
type Node struct {
	Daemon  string   `json:"daemon"`
	Name    string   `json:"name"`
	PID     int      `json:"pid"`
	API     string   `json:"api"`
	Admin   string   `json:"admin"`
	Raft    string   `json:"raft"`
	Gossip  string   `json:"gossip"`
	DataDir string   `json:"data_dir"`
	Argv    []string `json:"argv"`
	Log     string   `json:"log"`

	cmd  *exec.Cmd
	done chan struct{}
}

// Cluster is a set of running nodes.
type Cluster struct {
	Nodes []*Node `json:"nodes"`

	mu   sync.Mutex
	opts Options
}

// Options configure Start.
type Options struct {
	Daemon string   // "kvd"
	Binary string   // the daemon's executable
	Env    []string // added to the environment of every node
	Dir    string   // each node's data in Dir/<name>, its log in Dir/<name>.log
	Nodes  int
	// BasePorts are node 0's API, Raft, gossip and admin ports; node i
	// gets each + 10*i (CONTRACT.md, "anvil cluster up"). Zero: every
	// node on free ports.
	BasePorts [4]int
	// Args are added to every node's command line (e.g. -shards 4).
	Args []string
	// Detach starts nodes in their own session, outliving this process
	// (anvil cluster up); otherwise they are this process's children.
	Detach bool
	// Ready bounds the wait for a healthy cluster (default 60s).
	Ready time.Duration
}

// Start starts the cluster and waits until every node reports it healthy.
// On error, the nodes already started are killed.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.Ready == 0 {
		o.Ready = 60 * time.Second
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	c := &Cluster{opts: o}
	for i := 0; i < o.Nodes; i++ {
		n := &Node{Daemon: o.Daemon, Name: fmt.Sprintf("%s-%d", o.Daemon, i)}
		n.DataDir = filepath.Join(o.Dir, n.Name)
		n.Log = filepath.Join(o.Dir, n.Name+".log")
		port := func(k int) int {
			if o.BasePorts[k] == 0 {
				return 0
			}
			return o.BasePorts[k] + 10*i
		}
		addr := func(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }
		args := []string{"-node-id", n.Name, "-data-dir", n.DataDir,
			"-listen", addr(port(0)), "-raft", addr(port(1)), "-gossip", addr(port(2)), "-admin", addr(port(3)),
			"-log-format", "json"}
		if i > 0 {
			args = append(args, "-join", c.Nodes[0].Gossip)
		}
		n.Argv = append(append([]string{o.Binary}, args...), o.Args...)
		c.Nodes = append(c.Nodes, n)
		if err := c.start(ctx, n); err != nil {
			c.Kill()
			return nil, fmt.Errorf("start %s: %w", n.Name, err)
		}
	}
	if err := c.WaitHealthy(ctx, o.Ready); err != nil {
		c.Kill()
		return nil, err
	}
	return c, nil
}

// start runs n.Argv and waits for the node's "started" log line, which
// names its bound addresses; Argv is then pinned to those addresses so
// that a restart finds the node where it was.
func (c *Cluster) start(ctx context.Context, n *Node) error {
	logf, err := os.OpenFile(n.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	offset, _ := logf.Seek(0, io.SeekEnd)
	cmd := exec.Command(n.Argv[0], n.Argv[1:]...)
	cmd.Env = append(os.Environ(), c.opts.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if c.opts.Detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	c.mu.Lock()
	n.PID = cmd.Process.Pid
	n.done = make(chan struct{})
	c.mu.Unlock()
	if c.opts.Detach {
		_ = cmd.Process.Release()
	} else {
		n.cmd = cmd
		done := n.done
		go func() { _ = cmd.Wait(); close(done) }()
	}
	addrs, err := waitStarted(ctx, n.Log, offset, n.PID, 30*time.Second)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n.API, n.Raft, n.Gossip, n.Admin = addrs["api"], addrs["raft"], addrs["gossip"], addrs["admin"]
	for i := 1; i+1 < len(n.Argv); i++ {
		switch n.Argv[i] {
		case "-listen":
			n.Argv[i+1] = n.API
		case "-raft":
			n.Argv[i+1] = n.Raft
		case "-gossip":
			n.Argv[i+1] = n.Gossip
		case "-admin":
			n.Argv[i+1] = n.Admin
		}
	}
	return nil
}

// waitStarted reads the node's JSON log from offset until the runtime's
// "started" event (which lists every endpoint) or the process dies.
func waitStarted(ctx context.Context, path string, offset int64, pid int, within time.Duration) (map[string]string, error) {
	deadline := time.Now().Add(within)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, err
	}
	r := bufio.NewReader(f)
	var partial []byte
	for {
		line, err := r.ReadBytes('\n')
		partial = append(partial, line...)
		if err == nil {
			var ev map[string]any
			if json.Unmarshal(partial, &ev) == nil && ev["msg"] == "started" {
				out := map[string]string{}
				for _, k := range []string{"api", "raft", "gossip", "admin"} {
					s, _ := ev[k].(string)
					out[k] = s
				}
				if out["api"] == "" || out["admin"] == "" {
					return nil, fmt.Errorf("started without the endpoints: %s", partial)
				}
				return out, nil
			}
			if json.Unmarshal(partial, &ev) == nil && ev["level"] == "ERROR" {
				return nil, fmt.Errorf("node failed: %s", partial)
			}
			partial = partial[:0]
			continue
		}
		if !alive(pid) {
			tail, _ := os.ReadFile(path)
			return nil, fmt.Errorf("process %d exited before it started; log:\n%s", pid, lastLines(tail, 20))
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no start within %v (log %s)", within, path)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func lastLines(b []byte, n int) string {
	lines := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			lines++
			if lines > n {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// the state follows the ")" that ends the command name
	for i := len(st) - 1; i >= 0; i-- {
		if st[i] == ')' && i+2 < len(st) {
			return st[i+2] != 'Z'
		}
	}
	return true
}

// Status is the part of GET /v1/cluster that Start waits on: healthy, and
// balanced when the daemon reports it (kvd moves leaderships to balance
// them, which briefly answers writes 503; tests and benchmarks start after).
type Status struct {
	Healthy  bool  `json:"healthy"`
	Balanced *bool `json:"balanced"`
}

// WaitHealthy polls every running node's GET /v1/cluster until all say
// healthy (and balanced, if reported), or within passes.
func (c *Cluster) WaitHealthy(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	last := ""
	for {
		ok := true
		for _, n := range c.Running() {
			var st Status
			resp, err := hc.Get("http://" + n.API + "/v1/cluster")
			if err == nil {
				err = json.NewDecoder(resp.Body).Decode(&st)
				resp.Body.Close()
			}
			if err != nil || !st.Healthy || (st.Balanced != nil && !*st.Balanced) {
				ok = false
				last = fmt.Sprintf("%s: healthy=%v err=%v", n.Name, st.Healthy, err)
				break
			}
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not healthy after %v (%s)", within, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Running returns the nodes whose process is alive.
func (c *Cluster) Running() []*Node {
	var out []*Node
	for _, n := range c.Nodes {
		if alive(c.PID(n)) {
			out = append(out, n)
		}
	}
	return out
}

// PID is the node's current process id.
func (c *Cluster) PID(n *Node) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return n.PID
}

// API is node i's KV API address (safe while nodes restart).
func (c *Cluster) API(i int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Nodes[i].API
}

// Signal sends sig to node i's process.
func (c *Cluster) Signal(i int, sig syscall.Signal) error {
	return syscall.Kill(c.PID(c.Nodes[i]), sig)
}

// Kill9 kills node i with SIGKILL and waits until it is gone.
func (c *Cluster) Kill9(i int) error {
	n := c.Nodes[i]
	if err := c.Signal(i, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return c.waitExit(n, 10*time.Second)
}

// Stop stops node i with SIGTERM (a graceful drain) and waits.
func (c *Cluster) Stop(i int) error {
	n := c.Nodes[i]
	if err := c.Signal(i, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	if err := c.waitExit(n, 30*time.Second); err != nil {
		_ = c.Kill9(i)
		return err
	}
	return nil
}

// Pause freezes node i (SIGSTOP); Resume thaws it (SIGCONT).
func (c *Cluster) Pause(i int) error { return c.Signal(i, syscall.SIGSTOP) }

// Resume continues a paused node.
func (c *Cluster) Resume(i int) error { return c.Signal(i, syscall.SIGCONT) }

func (c *Cluster) waitExit(n *Node, within time.Duration) error {
	if n.done != nil && n.cmd != nil {
		select {
		case <-n.done:
			return nil
		case <-time.After(within):
			return fmt.Errorf("%s did not exit within %v", n.Name, within)
		}
	}
	deadline := time.Now().Add(within)
	for alive(c.PID(n)) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not exit within %v", n.Name, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Restart starts node i again from its argv (same addresses, same data);
// it must have exited.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	n := c.Nodes[i]
	if alive(c.PID(n)) {
		return fmt.Errorf("%s is still running (pid %d)", n.Name, c.PID(n))
	}
	return c.start(ctx, n)
}

// Kill SIGKILLs every node (cleanup after a failure).
func (c *Cluster) Kill() {
	for i := range c.Nodes {
		_ = c.Kill9(i)
	}
}

// Close stops every node gracefully (SIGCONT first, in case one is paused).
func (c *Cluster) Close() error {
	var errs []error
	for i, n := range c.Nodes {
		if !alive(c.PID(n)) {
			continue
		}
		_ = c.Resume(i)
		if err := c.Stop(i); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// WriteJSON writes the contract's {"nodes":[...]} document.
func (c *Cluster) WriteJSON(w io.Writer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Nodes []*Node `json:"nodes"`
	}{c.Nodes})
}

// Load reads a document written by WriteJSON (for anvil cluster down).
func Load(path string) (*Cluster, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
