// Package membership is cluster discovery and failure detection over
// hashicorp/memberlist (SWIM gossip), the only package that imports it.
// Each member carries a small metadata blob (kvd puts its API, Raft and
// admin addresses there); Changed signals joins, departures, failures and
// metadata updates so that owners can react without polling memberlist.
package membership

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Config configures Start.
type Config struct {
	Name string // unique member name
	Bind string // host:port for gossip (UDP and TCP); port 0 picks one
	Meta []byte // at most 512 bytes, sent to every member
	Log  *slog.Logger
	// Fast uses loopback timings (sub-second failure detection), for local
	// clusters and tests; otherwise LAN timings.
	Fast bool
}

// State of a member.
type State string

// Member states.
const (
	Alive State = "alive"
	Dead  State = "dead" // failed or left: no longer in Members
)

// Member is one node as gossip sees it.
type Member struct {
	Name  string
	Addr  string // gossip host:port
	Meta  []byte
	State State
}

// Members is a running gossip member.
type Members struct {
	ml      *memberlist.Memberlist
	addr    string
	mu      sync.Mutex // guards meta and known
	meta    []byte
	known   map[string]Member
	changed chan struct{}
}

// Start binds the gossip port and starts gossiping (alone until Join).
func Start(cfg Config) (*Members, error) {
	host, portStr, err := net.SplitHostPort(cfg.Bind)
	if err != nil {
		return nil, fmt.Errorf("gossip address %q: %w", cfg.Bind, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("gossip address %q: bad port", cfg.Bind)
	}
	if len(cfg.Meta) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("member metadata is %d bytes, at most %d", len(cfg.Meta), memberlist.MetaMaxSize)
	}
	m := &Members{meta: cfg.Meta, known: map[string]Member{}, changed: make(chan struct{}, 1)}
	mc := memberlist.DefaultLANConfig()
	if cfg.Fast {
		mc = memberlist.DefaultLocalConfig()
	}
	mc.Name = cfg.Name
	mc.BindAddr = host
	mc.BindPort = port
	mc.AdvertisePort = port
	mc.Delegate = delegate{m}
	mc.Events = events{m}
	mc.Logger = log.New(logWriter{cfg.Log}, "", 0)
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("gossip on %s: %w", cfg.Bind, err)
	}
	m.ml = ml
	// memberlist rewrites its local node in place while gossiping, so the
	// address is read once, before anyone else can talk to it.
	n := ml.LocalNode()
	m.addr = net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
	return m, nil
}

// Addr is the bound gossip address.
func (m *Members) Addr() string { return m.addr }

// Join contacts the given members; it succeeds if any answers.
func (m *Members) Join(addrs []string) (int, error) { return m.ml.Join(addrs) }

// Members returns every member not known to be dead or gone, this one
// included. The list is kept from memberlist's events (copied while
// memberlist holds its lock), so reading it never races with gossip.
func (m *Members) Members() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.known))
	for _, mb := range m.known {
		out = append(out, mb)
	}
	return out
}

func (m *Members) update(n *memberlist.Node, gone bool) {
	m.mu.Lock()
	if gone {
		delete(m.known, n.Name)
	} else {
		m.known[n.Name] = Member{Name: n.Name, Addr: n.Address(), Meta: bytes.Clone(n.Meta), State: Alive}
	}
	m.mu.Unlock()
	m.signal()
}

// SetMeta replaces this member's metadata and gossips it.
func (m *Members) SetMeta(meta []byte) error {
	m.mu.Lock()
	m.meta = bytes.Clone(meta)
	m.mu.Unlock()
	return m.ml.UpdateNode(time.Second)
}

// Changed receives a value after any membership or metadata change (it
// coalesces: one value may stand for many changes).
func (m *Members) Changed() <-chan struct{} { return m.changed }

func (m *Members) signal() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// Leave announces departure (bounded by timeout) and stops gossiping.
func (m *Members) Leave(timeout time.Duration) error {
	err := m.ml.Leave(timeout)
	if serr := m.ml.Shutdown(); err == nil {
		err = serr
	}
	return err
}

// Shutdown stops gossiping without announcing (as a crash would).
func (m *Members) Shutdown() error { return m.ml.Shutdown() }

type delegate struct{ m *Members }

func (d delegate) NodeMeta(limit int) []byte {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	if len(d.m.meta) > limit {
		return nil
	}
	return bytes.Clone(d.m.meta)
}
func (delegate) NotifyMsg([]byte)                {}
func (delegate) GetBroadcasts(int, int) [][]byte { return nil }
func (delegate) LocalState(bool) []byte          { return nil }
func (delegate) MergeRemoteState([]byte, bool)   {}

type events struct{ m *Members }

func (e events) NotifyJoin(n *memberlist.Node)   { e.m.update(n, false) }
func (e events) NotifyLeave(n *memberlist.Node)  { e.m.update(n, true) }
func (e events) NotifyUpdate(n *memberlist.Node) { e.m.update(n, false) }

// logWriter turns memberlist's "[LEVEL] memberlist: msg" lines into slog
// events, one level lower (memberlist reports every missed probe).
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	if w.log == nil {
		return len(p), nil
	}
	line := string(bytes.TrimSpace(p))
	level := slog.LevelDebug
	switch {
	case bytes.Contains(p, []byte("[ERR]")):
		level = slog.LevelWarn
	case bytes.Contains(p, []byte("[WARN]")):
		level = slog.LevelInfo
	}
	for _, tag := range []string{"[DEBUG] ", "[INFO] ", "[WARN] ", "[ERR] "} {
		if i := bytes.Index([]byte(line), []byte(tag)); i >= 0 {
			line = line[i+len(tag):]
			break
		}
	}
	w.log.Log(context.Background(), level, line, "component", "memberlist")
	return len(p), nil
}
