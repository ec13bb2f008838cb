package raftstore

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Transport is one Raft group's raft.Transport on a Mux: its RPCs travel as
// frames on the sessions every group of the node shares, encoded in binary
// (rpccodec.go), with no connection, buffer or goroutine of their own per
// peer. InstallSnapshot alone streams, on the group's Layer.
//
//	request: type=7 id length group(4) kind(1) body
//	reply:   type=8 id length status(1: 0 ok, 1 error) body-or-message
//
// The receiving node serves a group's AppendEntries from one session in
// the order they arrived (one goroutine drains them while any are queued),
// so pipelined appends reach raft in order; heartbeats, votes and
// TimeoutNow are served on their own goroutines and never wait behind an
// append's disk write.
type Transport struct {
	m        *Mux
	group    uint32
	local    raft.ServerAddress
	timeout  time.Duration
	inflight int
	layer    *Layer
	consumer chan raft.RPC

	hbMu sync.Mutex // guards hb
	hb   func(raft.RPC)

	closed chan struct{}
	once   sync.Once
}

// TransportConfig configures Mux.NewTransport.
type TransportConfig struct {
	Group uint32             // the Raft group (also its Layer for snapshots)
	Local raft.ServerAddress // this node's advertised Raft address
	// Timeout fails an RPC unanswered for this long (InstallSnapshot:
	// scaled by its size, per 256 KiB); default 5s.
	Timeout time.Duration
	// MaxInFlight bounds the pipelined AppendEntries awaiting a reply per
	// follower; default 2 (while they are out, new entries gather into
	// the next request).
	MaxInFlight int
}

var (
	errRPCTimeout = errors.New("raftstore: raft rpc timed out")
	errNoGroup    = errors.New("no such raft group on the peer")
)

// NewTransport registers the group's transport on the mux.
func (m *Mux) NewTransport(c TransportConfig) (*Transport, error) {
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.MaxInFlight < 1 {
		c.MaxInFlight = 2
	}
	layer, err := m.Layer(c.Group)
	if err != nil {
		return nil, err
	}
	t := &Transport{m: m, group: c.Group, local: c.Local, timeout: c.Timeout, inflight: c.MaxInFlight, layer: layer,
		consumer: make(chan raft.RPC), closed: make(chan struct{})}
	m.mu.Lock()
	old := *m.transports.Load()
	tr := make(map[uint32]*Transport, len(old)+1)
	for g, x := range old {
		tr[g] = x
	}
	tr[c.Group] = t
	m.transports.Store(&tr)
	m.mu.Unlock()
	m.wg.Add(1)
	go func() { defer m.wg.Done(); t.acceptSnapshots() }()
	return t, nil
}

func (m *Mux) transport(group uint32) *Transport { return (*m.transports.Load())[group] }

// Close implements raft.WithClose: the group stops receiving RPCs.
func (t *Transport) Close() error {
	t.once.Do(func() {
		close(t.closed)
		t.m.mu.Lock()
		old := *t.m.transports.Load()
		tr := make(map[uint32]*Transport, len(old))
		for g, x := range old {
			if x != t {
				tr[g] = x
			}
		}
		t.m.transports.Store(&tr)
		t.m.mu.Unlock()
		t.layer.Close()
	})
	return nil
}

// Consumer implements raft.Transport.
func (t *Transport) Consumer() <-chan raft.RPC { return t.consumer }

// LocalAddr implements raft.Transport.
func (t *Transport) LocalAddr() raft.ServerAddress { return t.local }

// EncodePeer implements raft.Transport.
func (t *Transport) EncodePeer(_ raft.ServerID, addr raft.ServerAddress) []byte { return []byte(addr) }

// DecodePeer implements raft.Transport.
func (t *Transport) DecodePeer(b []byte) raft.ServerAddress { return raft.ServerAddress(b) }

// SetHeartbeatHandler implements raft.Transport.
func (t *Transport) SetHeartbeatHandler(fn func(raft.RPC)) {
	t.hbMu.Lock()
	t.hb = fn
	t.hbMu.Unlock()
}

func (t *Transport) sessionTo(target raft.ServerAddress) (*session, error) {
	select {
	case <-t.closed:
		return nil, raft.ErrTransportShutdown
	default:
	}
	return t.m.sessionWithin(string(target), t.timeout)
}

// requestFrame starts a request frame of kind for this group (id and
// length are set when it is sent).
func (t *Transport) requestFrame(kind byte, size int) wbuf {
	f := make(wbuf, frameHeader+5, frameHeader+5+size)
	f[0] = frameRPC
	binary.BigEndian.PutUint32(f[frameHeader:], t.group)
	f[frameHeader+4] = kind
	return f
}

func sealFrame(f []byte) []byte {
	binary.BigEndian.PutUint32(f[5:], uint32(len(f)-frameHeader))
	return f
}

// replyBody checks a reply's status: the body to decode, or the peer's error.
func replyBody(p []byte) ([]byte, error) {
	if len(p) == 0 {
		return nil, errBadRPC
	}
	switch p[0] {
	case 0:
		return p[1:], nil
	case 1:
		return nil, errors.New(string(p[1:]))
	}
	return nil, errBadRPC
}

// roundTrip sends one request and waits for its reply's body.
func (t *Transport) roundTrip(target raft.ServerAddress, f wbuf) ([]byte, error) {
	s, err := t.sessionTo(target)
	if err != nil {
		return nil, err
	}
	ch := make(chanWaiter, 1)
	id, err := s.request(sealFrame(f), ch, time.Now().Add(t.timeout))
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(t.timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		return replyBody(r.resp)
	case <-timer.C:
		s.forget(id)
		return nil, errRPCTimeout
	case <-t.closed:
		s.forget(id)
		return nil, raft.ErrTransportShutdown
	}
}

// AppendEntries implements raft.Transport (heartbeats and appends outside
// the pipeline).
func (t *Transport) AppendEntries(_ raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	body, err := t.roundTrip(target, appendAppendEntries(t.requestFrame(rpcAppendEntries, 64+entriesSize(args)), args))
	if err != nil {
		return err
	}
	return decodeAppendEntriesResponse(body, resp)
}

func entriesSize(a *raft.AppendEntriesRequest) int {
	n := 0
	for _, l := range a.Entries {
		n += len(l.Data) + len(l.Extensions) + 40
	}
	return n
}

// RequestVote implements raft.Transport.
func (t *Transport) RequestVote(_ raft.ServerID, target raft.ServerAddress, args *raft.RequestVoteRequest, resp *raft.RequestVoteResponse) error {
	body, err := t.roundTrip(target, appendRequestVote(t.requestFrame(rpcRequestVote, 64), args))
	if err != nil {
		return err
	}
	return decodeRequestVoteResponse(body, resp)
}

// RequestPreVote implements raft.WithPreVote.
func (t *Transport) RequestPreVote(_ raft.ServerID, target raft.ServerAddress, args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	body, err := t.roundTrip(target, appendRequestPreVote(t.requestFrame(rpcRequestPreVote, 64), args))
	if err != nil {
		return err
	}
	return decodeRequestPreVoteResponse(body, resp)
}

// TimeoutNow implements raft.Transport.
func (t *Transport) TimeoutNow(_ raft.ServerID, target raft.ServerAddress, args *raft.TimeoutNowRequest, resp *raft.TimeoutNowResponse) error {
	body, err := t.roundTrip(target, appendTimeoutNow(t.requestFrame(rpcTimeoutNow, 64), args))
	if err != nil {
		return err
	}
	return decodeTimeoutNowResponse(body, resp)
}

// isHeartbeat is raft's own test for its heartbeat requests (decoded
// requests always carry Addr).
func isHeartbeat(a *raft.AppendEntriesRequest) bool {
	return a.Term != 0 && len(a.Addr) != 0 && a.PrevLogEntry == 0 && a.PrevLogTerm == 0 &&
		len(a.Entries) == 0 && a.LeaderCommitIndex == 0
}

// servedRPC dispatches a request frame the peer sent (on the read loop).
func (s *session) servedRPC(id uint32, p []byte) {
	if len(p) < 5 {
		s.fail(errBadRPC)
		return
	}
	group, kind, body := binary.BigEndian.Uint32(p), p[4], p[5:]
	t := s.m.transport(group)
	if t == nil {
		s.replyError(id, fmt.Errorf("%w: %d", errNoGroup, group))
		return
	}
	var rpc raft.RPC
	var err error
	hb := false
	switch kind {
	case rpcAppendEntries:
		a := new(raft.AppendEntriesRequest)
		err = decodeAppendEntries(body, a)
		rpc.Command, hb = a, isHeartbeat(a)
		if err == nil && !hb {
			s.ordered(group, t, id, rpc)
			return
		}
	case rpcRequestVote:
		a := new(raft.RequestVoteRequest)
		err = decodeRequestVote(body, a)
		rpc.Command = a
	case rpcRequestPreVote:
		a := new(raft.RequestPreVoteRequest)
		err = decodeRequestPreVote(body, a)
		rpc.Command = a
	case rpcTimeoutNow:
		a := new(raft.TimeoutNowRequest)
		err = decodeTimeoutNow(body, a)
		rpc.Command = a
	default:
		err = errBadRPC
	}
	if err != nil {
		s.replyError(id, fmt.Errorf("raft rpc of kind %d: %w", kind, err))
		return
	}
	s.m.wg.Add(1) // the read loop holds the group open, so Add is safe
	go func() {
		defer s.m.wg.Done()
		t.serve(s, id, rpc, hb)
	}()
}

func (s *session) replyError(id uint32, err error) {
	f := append(make([]byte, frameHeader, frameHeader+1+64), 1)
	f[0] = frameRPCReply
	binary.BigEndian.PutUint32(f[1:], id)
	_ = s.enqueue(sealFrame(append(f, err.Error()...)), time.Time{})
}

// rpcQueue holds one group's appends from one session, in order.
type rpcQueue struct {
	items   []queuedRPC
	running bool // a goroutine drains it
}

type queuedRPC struct {
	id  uint32
	rpc raft.RPC
}

func (s *session) ordered(group uint32, t *Transport, id uint32, rpc raft.RPC) {
	s.mu.Lock()
	q := s.inq[group]
	if q == nil {
		q = &rpcQueue{}
		s.inq[group] = q
	}
	q.items = append(q.items, queuedRPC{id: id, rpc: rpc})
	start := !q.running
	q.running = true
	s.mu.Unlock()
	if start {
		s.m.wg.Add(1) // the read loop holds the group open
		go func() {
			defer s.m.wg.Done()
			s.drain(q, t)
		}()
	}
}

func (s *session) drain(q *rpcQueue, t *Transport) {
	for {
		s.mu.Lock()
		if len(q.items) == 0 {
			q.running = false
			q.items = q.items[:0]
			s.mu.Unlock()
			return
		}
		it := q.items[0]
		q.items[0] = queuedRPC{}
		q.items = q.items[1:]
		s.mu.Unlock()
		t.serve(s, it.id, it.rpc, false)
	}
}

// serve hands one request to raft and queues its reply.
func (t *Transport) serve(s *session, id uint32, rpc raft.RPC, hb bool) {
	respCh := make(chan raft.RPCResponse, 1)
	rpc.RespChan = respCh
	handled := false
	if hb {
		t.hbMu.Lock()
		fn := t.hb
		t.hbMu.Unlock()
		if fn != nil {
			fn(rpc)
			handled = true
		}
	}
	if !handled {
		select {
		case t.consumer <- rpc:
		case <-t.closed:
			return
		case <-s.done:
			return // the sender has its answer: an error
		case <-t.m.ctx.Done():
			return
		}
	}
	var r raft.RPCResponse
	select {
	case r = <-respCh:
	case <-t.closed:
		return
	case <-t.m.ctx.Done():
		return
	}
	f := make(wbuf, frameHeader, frameHeader+64)
	f[0] = frameRPCReply
	binary.BigEndian.PutUint32(f[1:], id)
	if r.Error != nil {
		f = append(append(f, 1), r.Error.Error()...)
	} else {
		f = append(f, 0)
		switch resp := r.Response.(type) {
		case *raft.AppendEntriesResponse:
			f = appendAppendEntriesResponse(f, resp)
		case *raft.RequestVoteResponse:
			f = appendRequestVoteResponse(f, resp)
		case *raft.RequestPreVoteResponse:
			f = appendRequestPreVoteResponse(f, resp)
		case *raft.TimeoutNowResponse:
			f = appendTimeoutNowResponse(f, resp)
		default:
			f = append(f[:frameHeader], 1)
			f = fmt.Appendf(f, "raftstore: cannot encode a %T response", r.Response)
		}
	}
	_ = s.enqueue(sealFrame(f), time.Time{}) // a dead session drops it
}

// AppendEntriesPipeline implements raft.Transport.
func (t *Transport) AppendEntriesPipeline(_ raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	s, err := t.sessionTo(target)
	if err != nil {
		return nil, err
	}
	return &pipeline{t: t, s: s, sem: make(chan struct{}, t.inflight), doneCh: make(chan raft.AppendFuture, t.inflight),
		closeCh: make(chan struct{}), inflight: map[*appendFuture]uint32{}}, nil
}

// pipeline sends AppendEntries without waiting for replies (up to
// MaxInFlight at once) and hands raft each answered request, in order.
type pipeline struct {
	t       *Transport
	s       *session
	sem     chan struct{} // a token per request awaiting its reply
	doneCh  chan raft.AppendFuture
	closeCh chan struct{}

	mu       sync.Mutex // guards the fields below
	inflight map[*appendFuture]uint32
	overflow []*appendFuture // answered, waiting for room in doneCh
	draining bool
	closed   bool
}

// appendFuture implements raft.AppendFuture. It is handed to raft on the
// pipeline's Consumer channel once answered.
type appendFuture struct {
	p        *pipeline
	start    time.Time
	args     *raft.AppendEntriesRequest
	resp     *raft.AppendEntriesResponse
	err      error
	timer    *time.Timer
	answered atomic.Bool
}

func (f *appendFuture) Error() error                          { return f.err }
func (f *appendFuture) Start() time.Time                      { return f.start }
func (f *appendFuture) Request() *raft.AppendEntriesRequest   { return f.args }
func (f *appendFuture) Response() *raft.AppendEntriesResponse { return f.resp }

// answer records the reply (or failure), frees the request's slot and
// hands the future to raft. The first answer wins.
func (f *appendFuture) answer(resp []byte, err error) {
	if f.answered.Swap(true) {
		return
	}
	f.timer.Stop()
	if err == nil {
		var body []byte
		if body, err = replyBody(resp); err == nil {
			err = decodeAppendEntriesResponse(body, f.resp)
		}
	}
	if err != nil {
		*f.resp = raft.AppendEntriesResponse{} // never a half-decoded success
	}
	f.err = err
	p := f.p
	p.mu.Lock()
	delete(p.inflight, f)
	p.mu.Unlock()
	<-p.sem
	p.deliver(f)
}

// deliver puts f on doneCh after any earlier answered futures, never
// blocking the session's read loop.
func (p *pipeline) deliver(f *appendFuture) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	if len(p.overflow) == 0 {
		select {
		case p.doneCh <- f:
			p.mu.Unlock()
			return
		default:
		}
	}
	p.overflow = append(p.overflow, f)
	start := !p.draining
	p.draining = true
	p.mu.Unlock()
	if start {
		go p.drainOverflow()
	}
}

func (p *pipeline) drainOverflow() {
	for {
		p.mu.Lock()
		if len(p.overflow) == 0 || p.closed {
			p.overflow, p.draining = nil, false
			p.mu.Unlock()
			return
		}
		f := p.overflow[0]
		p.overflow = p.overflow[1:]
		p.mu.Unlock()
		select {
		case p.doneCh <- f:
		case <-p.closeCh:
		}
	}
}

// AppendEntries implements raft.AppendPipeline.
func (p *pipeline) AppendEntries(args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	select {
	case p.sem <- struct{}{}:
	default:
		timer := time.NewTimer(p.t.timeout)
		select {
		case p.sem <- struct{}{}:
			timer.Stop()
		case <-timer.C:
			return nil, errRPCTimeout
		case <-p.closeCh:
			timer.Stop()
			return nil, raft.ErrPipelineShutdown
		}
	}
	f := &appendFuture{p: p, start: time.Now(), args: args, resp: resp}
	frame := sealFrame(appendAppendEntries(p.t.requestFrame(rpcAppendEntries, 64+entriesSize(args)), args))
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.sem
		return nil, raft.ErrPipelineShutdown
	}
	p.inflight[f] = 0
	p.mu.Unlock()
	// A reply that does not come within the timeout fails the request
	// (and with it the pipeline, as a read deadline would).
	f.timer = time.AfterFunc(p.t.timeout, func() {
		p.mu.Lock()
		id, ok := p.inflight[f]
		p.mu.Unlock()
		switch {
		case ok && id == 0:
			// still being queued (its id is not known yet): look again soon
			f.timer.Reset(10 * time.Millisecond)
		case ok && p.s.forget(id):
			f.answer(nil, errRPCTimeout)
		}
	})
	id, err := p.s.request(frame, f, time.Now().Add(p.t.timeout))
	if err != nil {
		// Not queued; if the session failed meanwhile it answered f
		// already (and freed its slot).
		if !f.answered.Swap(true) {
			f.timer.Stop()
			p.mu.Lock()
			delete(p.inflight, f)
			p.mu.Unlock()
			<-p.sem
		}
		return nil, err
	}
	p.mu.Lock()
	if _, ok := p.inflight[f]; ok {
		p.inflight[f] = id
	}
	p.mu.Unlock()
	return f, nil
}

// Consumer implements raft.AppendPipeline.
func (p *pipeline) Consumer() <-chan raft.AppendFuture { return p.doneCh }

// Close implements raft.AppendPipeline: requests still awaiting a reply
// are abandoned.
func (p *pipeline) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.closeCh)
	left := p.inflight
	p.inflight = map[*appendFuture]uint32{}
	p.mu.Unlock()
	for f, id := range left {
		if id != 0 && p.s.forget(id) {
			f.answer(nil, raft.ErrPipelineShutdown)
		}
	}
	return nil
}

// InstallSnapshot implements raft.Transport: a stream on the group's
// layer carries the request, then the snapshot, then the reply.
//
//	request: length(uvarint) InstallSnapshotRequest, then Size bytes
//	reply:   length(uvarint) status(1) body-or-message
func (t *Transport) InstallSnapshot(_ raft.ServerID, target raft.ServerAddress, args *raft.InstallSnapshotRequest, resp *raft.InstallSnapshotResponse, data io.Reader) error {
	conn, err := t.layer.Dial(target, t.timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	timeout := t.timeout * time.Duration(max(1, args.Size/(256<<10)))
	_ = conn.SetDeadline(time.Now().Add(timeout))
	bw := bufio.NewWriterSize(conn, 256<<10)
	hdr := appendInstallSnapshot(nil, args)
	if _, err := bw.Write(binary.AppendUvarint(nil, uint64(len(hdr)))); err != nil {
		return err
	}
	if _, err := bw.Write(hdr); err != nil {
		return err
	}
	if _, err := io.Copy(bw, io.LimitReader(data, args.Size)); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	body, err := readMessage(bufio.NewReader(conn), 1<<20)
	if err != nil {
		return err
	}
	if body, err = replyBody(body); err != nil {
		return err
	}
	return decodeInstallSnapshotResponse(body, resp)
}

func readMessage(br *bufio.Reader, limit uint64) ([]byte, error) {
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, errBadRPC
	}
	b := make([]byte, n)
	_, err = io.ReadFull(br, b)
	return b, err
}

func (t *Transport) acceptSnapshots() {
	for {
		c, err := t.layer.Accept()
		if err != nil {
			return
		}
		t.m.wg.Add(1) // this loop holds the group open
		go func() {
			defer t.m.wg.Done()
			defer c.Close()
			if err := t.serveSnapshot(c); err != nil {
				t.m.log.Warn("raft snapshot install", "group", t.group, "err", err)
			}
		}()
	}
}

func (t *Transport) serveSnapshot(c io.ReadWriter) error {
	br := bufio.NewReaderSize(c, 256<<10)
	hdr, err := readMessage(br, 64<<20)
	if err != nil {
		return err
	}
	var req raft.InstallSnapshotRequest
	if err := decodeInstallSnapshot(hdr, &req); err != nil {
		return err
	}
	respCh := make(chan raft.RPCResponse, 1)
	rpc := raft.RPC{Command: &req, Reader: io.LimitReader(br, req.Size), RespChan: respCh}
	select {
	case t.consumer <- rpc:
	case <-t.closed:
		return raft.ErrTransportShutdown
	case <-t.m.ctx.Done():
		return ErrClosed
	}
	var r raft.RPCResponse
	select {
	case r = <-respCh:
	case <-t.closed:
		return raft.ErrTransportShutdown
	case <-t.m.ctx.Done():
		return ErrClosed
	}
	var body []byte
	if r.Error != nil {
		body = append([]byte{1}, r.Error.Error()...)
	} else if resp, ok := r.Response.(*raft.InstallSnapshotResponse); ok {
		body = appendInstallSnapshotResponse(wbuf{0}, resp)
	} else {
		body = fmt.Appendf([]byte{1}, "raftstore: cannot encode a %T response", r.Response)
	}
	_, err = c.Write(append(binary.AppendUvarint(nil, uint64(len(body))), body...))
	return err
}

var (
	_ raft.Transport   = (*Transport)(nil)
	_ raft.WithClose   = (*Transport)(nil)
	_ raft.WithPreVote = (*Transport)(nil)
)
