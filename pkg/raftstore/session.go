package raftstore

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"time"
)

// A session is one TCP connection between two nodes carrying the Raft
// traffic of every group (RPC frames of each group's Transport, streams of
// its Layer) and calls: whatever is queued while the session's writer is
// busy goes out in the next single writev. Sixteen groups replicating to the
// same follower then cost a few syscalls and packets instead of sixteen of
// each.
//
// Frames: type(1) stream(4) length(4) payload. The dialing side opens
// streams (payload: the group id); either side sends data and close.
const (
	sessionMagic  = 0xA8
	frameOpen     = 1
	frameData     = 2
	frameClose    = 3
	frameCall     = 4 // see call.go
	frameReply    = 5
	frameNoRoute  = 6
	frameRPC      = 7 // see transport.go
	frameRPCReply = 8
	frameHeader   = 9
	// maxQueued bounds what writers may queue before they wait for the
	// connection (a paused peer must not grow memory without bound).
	maxQueued = 64 << 20
	maxFrame  = 16 << 20
)

type session struct {
	m      *Mux
	conn   net.Conn
	remote string // dial side: the address dialled

	mu       sync.Mutex // guards everything below
	streams  map[uint32]*stream
	nextID   uint32
	calls    map[uint32]waiter    // dial side: requests awaiting a reply
	inq      map[uint32]*rpcQueue // accept side: each group's appends, in order
	nextCall uint32
	queue    [][]byte
	spare    [][]byte
	queued   int
	space    chan struct{} // closed when the writer drains the queue
	err      error

	wake chan struct{}
	done chan struct{}
}

func newSession(m *Mux, conn net.Conn, remote string) *session {
	s := &session{m: m, conn: conn, remote: remote, streams: map[uint32]*stream{}, calls: map[uint32]waiter{}, inq: map[uint32]*rpcQueue{},
		space: make(chan struct{}), wake: make(chan struct{}, 1), done: make(chan struct{})}
	m.wg.Add(2)
	go func() { defer m.wg.Done(); s.writeLoop() }()
	go func() { defer m.wg.Done(); s.readLoop() }()
	return s
}

// fail closes the session and every stream on it.
func (s *session) fail(err error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = err
	streams, calls := s.streams, s.calls
	s.streams, s.calls = map[uint32]*stream{}, map[uint32]waiter{}
	close(s.done)
	close(s.space)
	s.mu.Unlock()
	s.conn.Close()
	for _, st := range streams {
		st.broken(err)
	}
	failCalls(calls, err)
	s.m.dropSession(s)
}

// enqueue queues one frame, waiting for room until deadline.
func (s *session) enqueue(frame []byte, deadline time.Time) error {
	for {
		s.mu.Lock()
		if s.err != nil {
			s.mu.Unlock()
			return s.err
		}
		if s.queued+len(frame) <= maxQueued || s.queued == 0 {
			s.queue = append(s.queue, frame)
			s.queued += len(frame)
			s.mu.Unlock()
			select {
			case s.wake <- struct{}{}:
			default:
			}
			return nil
		}
		space := s.space
		s.mu.Unlock()
		var timeout <-chan time.Time
		if !deadline.IsZero() {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-space:
		case <-timeout:
			return os.ErrDeadlineExceeded
		}
	}
}

func (s *session) writeLoop() {
	for {
		select {
		case <-s.wake:
		case <-s.done:
			return
		}
		// Let the goroutines runnable now queue their frames first: on a
		// busy node they leave in this writev instead of one each.
		runtime.Gosched()
		s.mu.Lock()
		q := s.queue
		s.queue, s.spare = s.spare[:0], nil
		s.queued = 0
		if s.err == nil {
			close(s.space)
			s.space = make(chan struct{})
		}
		s.mu.Unlock()
		if len(q) == 0 {
			continue
		}
		bufs := net.Buffers(q)
		if _, err := bufs.WriteTo(s.conn); err != nil {
			s.fail(err)
			return
		}
		clear(q)
		s.mu.Lock()
		s.spare = q[:0]
		s.mu.Unlock()
	}
}

func (s *session) readLoop() {
	br := bufio.NewReaderSize(s.conn, 256<<10)
	var hdr [frameHeader]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			s.fail(err)
			return
		}
		typ, id, n := hdr[0], binary.BigEndian.Uint32(hdr[1:]), binary.BigEndian.Uint32(hdr[5:])
		if n > maxFrame {
			s.fail(fmt.Errorf("raftstore: frame of %d bytes", n))
			return
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			s.fail(err)
			return
		}
		switch typ {
		case frameOpen:
			if s.remote != "" || n != 4 {
				s.fail(errors.New("raftstore: unexpected stream open"))
				return
			}
			s.accept(id, binary.BigEndian.Uint32(payload))
		case frameData:
			s.mu.Lock()
			st := s.streams[id]
			s.mu.Unlock()
			if st != nil {
				st.push(payload)
			}
		case frameClose:
			s.mu.Lock()
			st := s.streams[id]
			s.mu.Unlock()
			if st != nil {
				st.broken(io.EOF)
			}
		case frameCall:
			if s.remote != "" {
				s.fail(errors.New("raftstore: unexpected call"))
				return
			}
			s.served(id, payload)
		case frameRPC:
			if s.remote != "" {
				s.fail(errors.New("raftstore: unexpected raft rpc"))
				return
			}
			s.servedRPC(id, payload)
		case frameReply, frameNoRoute, frameRPCReply:
			if s.remote == "" {
				s.fail(errors.New("raftstore: unexpected reply"))
				return
			}
			s.answered(typ, id, payload)
		default:
			s.fail(fmt.Errorf("raftstore: unknown frame type %d", typ))
			return
		}
	}
}

// accept hands a stream the peer opened to its group's layer.
func (s *session) accept(id, group uint32) {
	st := newStream(s, id)
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.streams[id] = st
	s.mu.Unlock()
	s.m.mu.Lock()
	l := s.m.layers[group]
	s.m.mu.Unlock()
	if l == nil {
		st.Close()
		return
	}
	select {
	case l.conns <- st:
	default:
		go func() {
			select {
			case l.conns <- st:
			case <-l.closed:
				st.Close()
			case <-s.done:
			}
		}()
	}
}

// open starts a stream to the peer's group.
func (s *session) open(group uint32) (*stream, error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return nil, s.err
	}
	s.nextID++
	st := newStream(s, s.nextID)
	s.streams[st.id] = st
	s.mu.Unlock()
	f := frame(frameOpen, st.id, 4)
	binary.BigEndian.PutUint32(f[frameHeader:], group)
	if err := s.enqueue(f, time.Time{}); err != nil {
		return nil, err
	}
	return st, nil
}

func frame(typ byte, id uint32, n int) []byte {
	f := make([]byte, frameHeader+n)
	f[0] = typ
	binary.BigEndian.PutUint32(f[1:], id)
	binary.BigEndian.PutUint32(f[5:], uint32(n))
	return f
}

// stream is one virtual connection on a session.
type stream struct {
	s  *session
	id uint32

	mu        sync.Mutex // guards the fields below
	buf       []byte
	err       error // io.EOF once the peer closed, or the session's error
	closed    bool
	rdeadline time.Time
	wdeadline time.Time
	ready     chan struct{}
}

var _ net.Conn = (*stream)(nil)

func newStream(s *session, id uint32) *stream {
	return &stream{s: s, id: id, ready: make(chan struct{}, 1)}
}

func (st *stream) signal() {
	select {
	case st.ready <- struct{}{}:
	default:
	}
}

func (st *stream) push(p []byte) {
	st.mu.Lock()
	if st.buf == nil {
		st.buf = p
	} else {
		st.buf = append(st.buf, p...)
	}
	st.mu.Unlock()
	st.signal()
}

func (st *stream) broken(err error) {
	st.mu.Lock()
	if st.err == nil {
		st.err = err
	}
	st.mu.Unlock()
	st.signal()
}

// Read implements net.Conn.
func (st *stream) Read(p []byte) (int, error) {
	for {
		st.mu.Lock()
		if len(st.buf) > 0 {
			n := copy(p, st.buf)
			st.buf = st.buf[n:]
			if len(st.buf) == 0 {
				st.buf = nil
			}
			st.mu.Unlock()
			return n, nil
		}
		if st.closed {
			st.mu.Unlock()
			return 0, net.ErrClosed
		}
		if st.err != nil {
			err := st.err
			st.mu.Unlock()
			return 0, err
		}
		dl := st.rdeadline
		st.mu.Unlock()
		if dl.IsZero() {
			<-st.ready
			continue
		}
		d := time.Until(dl)
		if d <= 0 {
			return 0, os.ErrDeadlineExceeded
		}
		t := time.NewTimer(d)
		select {
		case <-st.ready:
			t.Stop()
		case <-t.C:
		}
	}
}

// Write implements net.Conn: the bytes are queued as one frame for the
// session's writer.
func (st *stream) Write(p []byte) (int, error) {
	st.mu.Lock()
	closed, err, dl := st.closed, st.err, st.wdeadline
	st.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	if err != nil && err != io.EOF {
		return 0, err
	}
	for off := 0; off < len(p); off += maxFrame {
		chunk := p[off:min(len(p), off+maxFrame)]
		f := frame(frameData, st.id, len(chunk))
		copy(f[frameHeader:], chunk)
		if err := st.s.enqueue(f, dl); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

// Close implements net.Conn.
func (st *stream) Close() error {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return nil
	}
	st.closed = true
	st.mu.Unlock()
	st.signal()
	s := st.s
	s.mu.Lock()
	delete(s.streams, st.id)
	s.mu.Unlock()
	_ = s.enqueue(frame(frameClose, st.id, 0), time.Time{})
	return nil
}

// LocalAddr implements net.Conn.
func (st *stream) LocalAddr() net.Addr { return st.s.conn.LocalAddr() }

// RemoteAddr implements net.Conn.
func (st *stream) RemoteAddr() net.Addr { return st.s.conn.RemoteAddr() }

// SetDeadline implements net.Conn.
func (st *stream) SetDeadline(t time.Time) error {
	st.mu.Lock()
	st.rdeadline, st.wdeadline = t, t
	st.mu.Unlock()
	st.signal()
	return nil
}

// SetReadDeadline implements net.Conn.
func (st *stream) SetReadDeadline(t time.Time) error {
	st.mu.Lock()
	st.rdeadline = t
	st.mu.Unlock()
	st.signal()
	return nil
}

// SetWriteDeadline implements net.Conn.
func (st *stream) SetWriteDeadline(t time.Time) error {
	st.mu.Lock()
	st.wdeadline = t
	st.mu.Unlock()
	return nil
}

// sessionWithin is session with a dial bounded by timeout (no context is
// made when the session exists).
func (m *Mux) sessionWithin(addr string, timeout time.Duration) (*session, error) {
	m.mu.Lock()
	if slot := m.slots[addr]; slot != nil && !m.closed {
		m.mu.Unlock()
		slot.mu.Lock()
		s := slot.s
		slot.mu.Unlock()
		if s != nil {
			return s, nil
		}
	} else {
		m.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return m.session(ctx, addr)
}

// session returns the session to addr, dialling one if there is none.
func (m *Mux) session(ctx context.Context, addr string) (*session, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	slot := m.slots[addr]
	if slot == nil {
		slot = &sessionSlot{}
		m.slots[addr] = slot
	}
	m.mu.Unlock()
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.s != nil {
		return slot.s, nil
	}
	c, err := m.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte{sessionMagic}); err != nil {
		c.Close()
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	s := newSession(m, c, addr)
	slot.s = s
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		s.fail(ErrClosed)
		return nil, ErrClosed
	}
	return s, nil
}

type sessionSlot struct {
	mu sync.Mutex // held while dialling
	s  *session
}

// dropSession forgets a failed session so the next dial makes a new one.
func (m *Mux) dropSession(s *session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.remote == "" {
		delete(m.accepted, s)
		return
	}
	if slot := m.slots[s.remote]; slot != nil {
		go func() { // not under slot.mu: a dial may hold it
			slot.mu.Lock()
			if slot.s == s {
				slot.s = nil
			}
			slot.mu.Unlock()
		}()
	}
}
