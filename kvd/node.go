package kvd

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/anvilstack/anvil/kvd/placement"
	"github.com/anvilstack/anvil/pkg/admin"
	"github.com/anvilstack/anvil/pkg/daemon"
	"github.com/anvilstack/anvil/pkg/membership"
	"github.com/anvilstack/anvil/pkg/pebblestore"
	"github.com/anvilstack/anvil/pkg/raftstore"
)

// Options are test hooks; the zero value is production.
type Options struct {
	// Dialer, when set, opens every node-to-node connection (Raft and
	// request forwarding), so a test can partition or drop traffic.
	Dialer raftstore.Dialer
	// FS, when set, holds the database in memory (crash tests).
	FS *pebblestore.FS
}

// Service is one kvd node.
type Service struct {
	cfg   Config
	opts  Options
	log   *slog.Logger
	admin *admin.Server
	m     *metrics

	name string
	self placement.Node

	db      *pebblestore.DB
	mux     *raftstore.Mux
	members *membership.Members
	apiLn   net.Listener
	api     *http.Server
	fwd     *http.Client

	meta *metaGroup

	mu       sync.Mutex // guards groups (the set) and unlisted; see LOCKS.md
	groups   map[int]*shard
	unlisted map[int]time.Time        // shards open here that the map no longer places here, since when
	table    atomic.Pointer[[]*shard] // index: shard id; read lock-free on every request

	hints atomic.Pointer[map[string]memberInfo] // gossip view: name -> info

	wake   chan struct{}
	cancel context.CancelFunc
	loops  sync.WaitGroup
	closed atomic.Bool
}

// New builds a node from cfg; nothing is opened until Start.
func New(cfg Config, env daemon.Env, opts Options) (*Service, error) {
	s := &Service{
		cfg:      cfg,
		opts:     opts,
		log:      env.Log,
		admin:    env.Admin,
		groups:   map[int]*shard{},
		unlisted: map[int]time.Time{},
		wake:     make(chan struct{}, 1),
	}
	s.m = newMetrics(env.Registry, s)
	empty := []*shard{}
	s.table.Store(&empty)
	hints := map[string]memberInfo{}
	s.hints.Store(&hints)
	env.Admin.HandleFunc("GET /v1/cluster", s.serveCluster)
	env.Admin.HandleFunc("DELETE /v1/cluster/nodes/{name}", s.serveRemoveNode)
	env.Admin.AddCheck("cluster", s.readyCheck)
	return s, nil
}

// memberInfo is what a node gossips about itself.
type memberInfo struct {
	API   string `json:"api"`
	Raft  string `json:"raft"`
	Admin string `json:"admin"`
	Lead  string `json:"lead,omitempty"` // hex bitmap of the shards it leads
}

func (s *Service) dataPath(parts ...string) string {
	return filepath.Join(append([]string{s.cfg.DataDir}, parts...)...)
}

// nodeName settles this node's name: the configured one, else the one the
// data directory remembers, else the host name; a data directory never
// changes hands.
func (s *Service) nodeName() (string, error) {
	path := s.dataPath("node_id")
	stored, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	name := strings.TrimSpace(string(stored))
	switch {
	case s.cfg.NodeID != "" && name != "" && name != s.cfg.NodeID:
		return "", fmt.Errorf("data directory %s belongs to node %q, not %q", s.cfg.DataDir, name, s.cfg.NodeID)
	case s.cfg.NodeID != "":
		name = s.cfg.NodeID
	case name == "":
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "kvd"
		}
		name = h
	}
	if len(stored) == 0 {
		if err := os.WriteFile(path, []byte(name+"\n"), 0o644); err != nil {
			return "", err
		}
	}
	return name, nil
}

func (s *Service) advertise(bound net.Addr) string {
	host, port, _ := net.SplitHostPort(bound.String())
	if s.cfg.Advertise != "" {
		host = s.cfg.Advertise
	} else if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return net.JoinHostPort(host, port)
}

func (s *Service) dial(ctx context.Context, addr string) (net.Conn, error) {
	if s.opts.Dialer != nil {
		return s.opts.Dialer(ctx, addr)
	}
	return raftstore.DefaultDialer(ctx, addr)
}

// Start opens storage, binds the KV API, Raft and gossip listeners, starts
// the metadata group (bootstrapping a new cluster when there is nothing to
// join and no state), and starts the control loop. It returns once every
// listener is bound; /readyz turns ready when this node serves its shards.
func (s *Service) Start(ctx context.Context) (err error) {
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	if err := os.MkdirAll(s.cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if s.name, err = s.nodeName(); err != nil {
		return err
	}
	s.log = s.log.With("node", s.name)
	if s.db, err = pebblestore.Open(s.dataPath("db"), pebblestore.Options{FS: s.opts.FS, Log: s.log.With("component", "pebble"), SyncInterval: s.cfg.Tuning.SyncInterval}); err != nil {
		return err
	}
	undo = append(undo, func() { s.db.Close() })
	if s.mux, err = raftstore.Listen(s.cfg.Raft, s.opts.Dialer, s.log); err != nil {
		return fmt.Errorf("raft listener: %w", err)
	}
	undo = append(undo, func() { s.mux.Close() })
	if s.apiLn, err = net.Listen("tcp", s.cfg.Listen); err != nil {
		return fmt.Errorf("api listener: %w", err)
	}
	undo = append(undo, func() { s.apiLn.Close() })
	s.self = placement.Node{
		Name:  s.name,
		API:   s.advertise(s.apiLn.Addr()),
		Raft:  s.advertise(s.mux.Addr()),
		Admin: s.advertise(s.admin.Addr()),
	}
	fast := s.cfg.Tuning.FastGossip
	if host, _, _ := net.SplitHostPort(s.cfg.Gossip); host == "127.0.0.1" || host == "localhost" || host == "::1" {
		fast = true
	}
	info := memberInfo{API: s.self.API, Raft: s.self.Raft, Admin: s.self.Admin}
	meta, _ := json.Marshal(info)
	if s.members, err = membership.Start(membership.Config{Name: s.name, Bind: s.cfg.Gossip, Meta: meta, Log: s.log, Fast: fast}); err != nil {
		return err
	}
	undo = append(undo, func() { s.members.Shutdown() })
	s.self.Gossip = s.members.Addr()

	s.fwd = &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         func(ctx context.Context, _, addr string) (net.Conn, error) { return s.dial(ctx, addr) },
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if s.meta, err = openMeta(s); err != nil {
		return err
	}
	undo = append(undo, func() { s.meta.close() })

	s.mux.Handle(serviceKV, s.serveForwarded)
	s.api = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.loops.Add(3)
	go func() {
		defer s.loops.Done()
		if err := s.api.Serve(s.apiLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("kv api stopped", "err", err)
		}
	}()
	go func() { defer s.loops.Done(); s.joinLoop(lctx) }()
	go func() { defer s.loops.Done(); s.controlLoop(lctx) }()
	s.log.Info("kvd node started", "api", s.self.API, "raft", s.self.Raft, "gossip", s.self.Gossip,
		"bootstrap", s.meta.bootstrapped, "join", strings.Join(s.cfg.Join, ","))
	return nil
}

// Endpoints implements daemon.Endpointer.
func (s *Service) Endpoints() []daemon.Endpoint {
	if s.apiLn == nil {
		return nil
	}
	api := s.apiLn.Addr().String()
	return []daemon.Endpoint{
		{Name: "api", Addr: api, URL: "http://" + api, Env: "KVD_ADDR"},
		{Name: "raft", Addr: s.mux.Addr().String()},
		{Name: "gossip", Addr: s.members.Addr()},
	}
}

// Shutdown stops the node within ctx:
//
//  1. the KV API stops accepting and drains in-flight requests;
//  2. shards this node leads hand leadership to another voter (bounded),
//     so the cluster does not wait an election timeout;
//  3. the control and join loops stop;
//  4. the node leaves the gossip cluster;
//  5. every shard's Raft group and then the metadata group shut down
//     (their transports close), then the Raft listener;
//  6. the database is synced and closed.
func (s *Service) Shutdown(ctx context.Context) error {
	if s.closed.Swap(true) {
		return nil
	}
	var errs []error
	if err := s.api.Shutdown(ctx); err != nil {
		_ = s.api.Close()
		errs = append(errs, fmt.Errorf("drain kv api: %w", err))
	}
	s.handOffLeadership(ctx)
	s.cancel()
	s.loops.Wait()
	_ = s.members.Leave(500 * time.Millisecond)
	s.mu.Lock()
	groups := make([]*shard, 0, len(s.groups))
	for _, g := range s.groups {
		groups = append(groups, g)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Go(func() {
			if err := g.close(); err != nil {
				s.log.Warn("shard shutdown", "shard", g.id, "err", err)
			}
		})
	}
	wg.Wait()
	s.meta.close()
	s.mux.Close()
	s.fwd.CloseIdleConnections()
	if err := s.db.Sync(); err != nil {
		errs = append(errs, err)
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close database: %w", err))
	}
	return errors.Join(errs...)
}

// handOffLeadership transfers every shard this node leads to another
// voter, in parallel, for at most a second or what is left of ctx.
func (s *Service) handOffLeadership(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, g := range *s.table.Load() {
		if g == nil || !g.isLeader() || g.voters() < 2 {
			continue
		}
		wg.Go(func() {
			f := g.raft.LeadershipTransfer()
			done := make(chan struct{})
			go func() { _ = f.Error(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
			}
		})
	}
	if s.meta != nil && s.meta.raft.State() == raft.Leader {
		_ = s.meta.raft.LeadershipTransfer()
	}
	wg.Wait()
}

// readyCheck: this node is an active member of an initialized cluster and
// every shard placed on it has a leader.
func (s *Service) readyCheck(context.Context) error {
	m := s.meta.current()
	if !m.Initialized() {
		return errors.New("cluster not initialized yet")
	}
	if !m.Member(s.name) {
		if n, ok := m.Nodes[s.name]; ok && n.Removed {
			return errors.New("this node was removed from the cluster")
		}
		return errors.New("not yet a member of the cluster map")
	}
	table := *s.table.Load()
	for _, sh := range m.Shards {
		if !m.Hosts(sh.ID, s.name) {
			continue
		}
		if sh.ID >= len(table) || table[sh.ID] == nil {
			return fmt.Errorf("shard %d not open yet", sh.ID)
		}
		if addr, _ := table[sh.ID].raft.LeaderWithID(); addr == "" {
			return fmt.Errorf("shard %d has no leader", sh.ID)
		}
	}
	return nil
}

// leadBitmap encodes the shards this node leads for its gossip metadata.
func (s *Service) leadBitmap() string {
	table := *s.table.Load()
	bits := make([]byte, (len(table)+7)/8)
	for _, g := range table {
		if g != nil && g.isLeader() {
			bits[g.id/8] |= 1 << (g.id % 8)
		}
	}
	return hex.EncodeToString(bits)
}

func leads(bitmap string, shard int) bool {
	b, err := hex.DecodeString(bitmap)
	if err != nil || shard/8 >= len(b) {
		return false
	}
	return b[shard/8]&(1<<(shard%8)) != 0
}

// kick wakes the control loop early.
func (s *Service) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
