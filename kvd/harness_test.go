package kvd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/daemon"
	"github.com/anvilstack/anvil/pkg/daemontest"
)

// faultNet is the in-process cluster's network: every node-to-node
// connection (Raft and forwarding) is dialled through it, so a test can
// partition nodes (new dials fail, open connections are cut) and heal.
type faultNet struct {
	mu      sync.Mutex
	owner   map[string]int // listen address -> node index
	blocked map[[2]int]bool
	conns   map[[2]int]map[net.Conn]bool
}

func newFaultNet() *faultNet {
	return &faultNet{owner: map[string]int{}, blocked: map[[2]int]bool{}, conns: map[[2]int]map[net.Conn]bool{}}
}

func (n *faultNet) register(node int, addrs ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range addrs {
		n.owner[a] = node
	}
}

func (n *faultNet) dialer(from int) func(ctx context.Context, addr string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		n.mu.Lock()
		to, known := n.owner[addr]
		link := [2]int{from, to}
		blocked := known && n.blocked[link]
		n.mu.Unlock()
		if blocked {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("partitioned from node %d", to)}
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil || !known {
			return c, err
		}
		tc := &trackedConn{Conn: c, n: n, link: link}
		n.mu.Lock()
		if n.blocked[link] {
			n.mu.Unlock()
			c.Close()
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("partitioned from node %d", to)}
		}
		if n.conns[link] == nil {
			n.conns[link] = map[net.Conn]bool{}
		}
		n.conns[link][tc] = true
		n.mu.Unlock()
		return tc, nil
	}
}

type trackedConn struct {
	net.Conn
	n    *faultNet
	link [2]int
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.n.mu.Lock()
		delete(c.n.conns[c.link], c)
		c.n.mu.Unlock()
	})
	return c.Conn.Close()
}

// isolate cuts node off from every other node (both directions).
func (n *faultNet) isolate(node, nodes int) {
	var groupA, groupB []int
	groupA = []int{node}
	for i := 0; i < nodes; i++ {
		if i != node {
			groupB = append(groupB, i)
		}
	}
	n.partition(groupA, groupB)
}

// partition blocks all traffic between a and b and cuts open connections.
func (n *faultNet) partition(a, b []int) {
	n.mu.Lock()
	var cut []net.Conn
	for _, x := range a {
		for _, y := range b {
			for _, l := range [][2]int{{x, y}, {y, x}} {
				n.blocked[l] = true
				for c := range n.conns[l] {
					cut = append(cut, c)
				}
			}
		}
	}
	n.mu.Unlock()
	for _, c := range cut {
		c.Close()
	}
}

func (n *faultNet) heal() {
	n.mu.Lock()
	n.blocked = map[[2]int]bool{}
	n.mu.Unlock()
}

// tcluster is an in-process kvd cluster on loopback.
type tcluster struct {
	t     testing.TB
	net   *faultNet
	cfgs  []Config
	nodes []*daemon.Daemon
	mu    sync.Mutex
	done  atomic.Bool // the test is over: stop logging to it
}

// untilDone drops records once the test is over (stray goroutines of
// memberlist and raft may log after their owners stopped).
type untilDone struct {
	h    slog.Handler
	done *atomic.Bool
}

func (u *untilDone) Enabled(ctx context.Context, l slog.Level) bool {
	return !u.done.Load() && u.h.Enabled(ctx, l)
}

func (u *untilDone) Handle(ctx context.Context, r slog.Record) error {
	if u.done.Load() {
		return nil
	}
	return u.h.Handle(ctx, r)
}

func (u *untilDone) WithAttrs(as []slog.Attr) slog.Handler {
	return &untilDone{h: u.h.WithAttrs(as), done: u.done}
}

func (u *untilDone) WithGroup(g string) slog.Handler {
	return &untilDone{h: u.h.WithGroup(g), done: u.done}
}

func clusterConfig(t testing.TB, i int, shards int) Config {
	cfg := testConfig(t)
	cfg.NodeID = fmt.Sprintf("n%d", i)
	cfg.Shards = shards
	cfg.Tuning.FastGossip = true
	return cfg
}

// startCluster starts n nodes (node 0 creates the cluster, the others join
// it) and waits until the cluster is healthy.
func startCluster(t testing.TB, n, shards int, adjust func(i int, c *Config)) *tcluster {
	t.Helper()
	c := &tcluster{t: t, net: newFaultNet(), cfgs: make([]Config, n), nodes: make([]*daemon.Daemon, n)}
	t.Cleanup(func() { c.done.Store(true) }) // runs last
	for i := 0; i < n; i++ {
		cfg := clusterConfig(t, i, shards)
		if i > 0 {
			cfg.Join = []string{c.nodes[0].Endpoint("gossip")}
		}
		if adjust != nil {
			adjust(i, &cfg)
		}
		c.cfgs[i] = cfg
		c.start(i)
	}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.stop(i)
		}
	})
	c.waitHealthy(30 * time.Second)
	return c
}

func (c *tcluster) start(i int) {
	c.t.Helper()
	cfg := c.cfgs[i]
	// restart on the same addresses (ports picked on first start)
	if d := c.nodes[i]; d != nil {
		panic("node running")
	}
	spec := SpecWith(Options{Dialer: c.net.dialer(i)})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(&untilDone{h: daemontest.Logger(c.t).Handler(), done: &c.done}).With("daemon", "kvd", "n", i)
	}
	d, err := spec.Build(cfg, log, new(slog.LevelVar), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Start(ctx); err != nil {
		c.t.Fatalf("start node %d: %v", i, err)
	}
	c.mu.Lock()
	c.nodes[i] = d
	c.mu.Unlock()
	// pin the ports for a restart
	c.cfgs[i].Listen = d.Endpoint("api")
	c.cfgs[i].Raft = d.Endpoint("raft")
	c.cfgs[i].Gossip = d.Endpoint("gossip")
	c.cfgs[i].Admin.Listen = d.AdminAddr().String()
	c.net.register(i, d.Endpoint("api"), d.Endpoint("raft"))
}

func (c *tcluster) stop(i int) {
	c.mu.Lock()
	d := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if d == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Shutdown(ctx); err != nil {
		c.t.Errorf("stop node %d: %v", i, err)
	}
}

func (c *tcluster) api(i int) string   { return c.cfgs[i].Listen }
func (c *tcluster) admin(i int) string { return c.cfgs[i].Admin.Listen }

func (c *tcluster) svc(i int) *Service {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nodes[i] == nil {
		return nil
	}
	return c.nodes[i].Service().(*Service)
}

func clusterStatus(addr string) (ClusterStatus, error) {
	var st ClusterStatus
	hc := &http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Get("http://" + addr + "/v1/cluster")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// waitHealthy waits until every running node reports a healthy, balanced
// cluster (so no leadership moves for balance during the test's writes).
func (c *tcluster) waitHealthy(within time.Duration) {
	c.t.Helper()
	last := ""
	poll(c.t, within, "a healthy cluster", func() bool {
		for i := range c.nodes {
			if c.svc(i) == nil {
				continue
			}
			st, err := clusterStatus(c.api(i))
			if err != nil || !st.Healthy || !st.Balanced {
				b, _ := json.Marshal(st)
				last = fmt.Sprintf("node %d: %v %s", i, err, b)
				return false
			}
		}
		return true
	})
	_ = last
}

// leaderOf returns the index of the node leading shard.
func (c *tcluster) leaderOf(shard int) int {
	for i := range c.nodes {
		if s := c.svc(i); s != nil {
			if g := s.group(shard); g != nil && g.isLeader() {
				return i
			}
		}
	}
	return -1
}
