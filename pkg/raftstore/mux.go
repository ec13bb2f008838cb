package raftstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Dialer opens a connection to addr; tests inject one that drops or
// partitions traffic.
type Dialer func(ctx context.Context, addr string) (net.Conn, error)

// DefaultDialer dials TCP.
func DefaultDialer(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// ErrClosed is returned by Accept after Close.
var ErrClosed = errors.New("raftstore: mux closed")

// Mux carries many Raft groups over one listener: nodes talk over one
// session (TCP connection) per direction. A group's Transport
// (transport.go) sends its RPCs as frames on it; a stream layer (Layer)
// also carries net.Conn-like streams per group, used for snapshots and
// usable by a raft.NetworkTransport (see session.go).
type Mux struct {
	ln   net.Listener
	dial Dialer
	log  *slog.Logger

	mu       sync.Mutex // guards layers, handlers, closed, slots, accepted
	layers   map[uint32]*Layer
	handlers [256]Handler

	transports atomic.Pointer[map[uint32]*Transport] // copy on write under mu
	closed     bool
	slots      map[string]*sessionSlot
	accepted   map[*session]bool

	ctx    context.Context // ends at Close: call handlers stop waiting
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Listen binds addr and starts accepting. dial (nil: DefaultDialer) is used
// for outgoing connections.
func Listen(addr string, dial Dialer, log *slog.Logger) (*Mux, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if dial == nil {
		dial = DefaultDialer
	}
	m := &Mux{ln: ln, dial: dial, log: log, layers: map[uint32]*Layer{}, slots: map[string]*sessionSlot{}, accepted: map[*session]bool{}}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.transports.Store(&map[uint32]*Transport{})
	m.wg.Add(1)
	go m.acceptLoop()
	return m, nil
}

// Addr is the bound address.
func (m *Mux) Addr() net.Addr { return m.ln.Addr() }

func (m *Mux) acceptLoop() {
	defer m.wg.Done()
	for {
		c, err := m.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			m.log.Warn("raft mux accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.route(c)
		}()
	}
}

func (m *Mux) route(c net.Conn) {
	var magic [1]byte
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, magic[:]); err != nil || magic[0] != sessionMagic {
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		c.Close()
		return
	}
	s := newSession(m, c, "")
	m.accepted[s] = true
	m.mu.Unlock()
}

// Layer returns the stream layer of group, registering it. A second call
// for a group still open is an error.
func (m *Mux) Layer(group uint32) (*Layer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if _, ok := m.layers[group]; ok {
		return nil, fmt.Errorf("raft mux: group %d already registered", group)
	}
	l := &Layer{m: m, group: group, conns: make(chan net.Conn, 16), closed: make(chan struct{})}
	m.layers[group] = l
	return l, nil
}

// Close stops accepting and closes every layer.
func (m *Mux) Close() error {
	m.mu.Lock()
	m.closed = true
	layers := make([]*Layer, 0, len(m.layers))
	for _, l := range m.layers {
		layers = append(layers, l)
	}
	var sessions []*session
	for s := range m.accepted {
		sessions = append(sessions, s)
	}
	slots := make([]*sessionSlot, 0, len(m.slots))
	for _, sl := range m.slots {
		slots = append(slots, sl)
	}
	m.mu.Unlock()
	m.cancel()
	err := m.ln.Close()
	for _, sl := range slots {
		sl.mu.Lock()
		if sl.s != nil {
			sessions = append(sessions, sl.s)
		}
		sl.mu.Unlock()
	}
	for _, s := range sessions {
		s.fail(ErrClosed)
	}
	for _, l := range layers {
		l.Close()
	}
	m.wg.Wait()
	return err
}

// Layer is one group's raft.StreamLayer on a Mux.
type Layer struct {
	m      *Mux
	group  uint32
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

var _ raft.StreamLayer = (*Layer)(nil)

// Accept implements net.Listener.
func (l *Layer) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, ErrClosed
	}
}

// Close implements net.Listener: the group stops receiving connections.
func (l *Layer) Close() error {
	l.once.Do(func() {
		l.m.mu.Lock()
		if l.m.layers[l.group] == l {
			delete(l.m.layers, l.group)
		}
		l.m.mu.Unlock()
		close(l.closed)
		for {
			select {
			case c := <-l.conns:
				c.Close()
			default:
				return
			}
		}
	})
	return nil
}

// Addr implements net.Listener.
func (l *Layer) Addr() net.Addr { return l.m.ln.Addr() }

// Dial implements raft.StreamLayer: a new stream on the session to
// address (dialled first if there is none).
func (l *Layer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := l.m.session(ctx, string(address))
	if err != nil {
		return nil, err
	}
	return s.open(l.group)
}

// ServerAddressOf converts a host:port to raft's address type.
func ServerAddressOf(addr string) raft.ServerAddress { return raft.ServerAddress(addr) }
