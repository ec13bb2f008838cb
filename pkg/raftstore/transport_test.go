package raftstore

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/logging"
	"github.com/hashicorp/raft"
)

const testGroup = 7

// transportNode is one node's mux with group testGroup's transport; serve
// answers every RPC raft would have taken from the consumer channel.
type transportNode struct {
	m    *Mux
	t    *Transport
	addr raft.ServerAddress
	stop chan struct{}
	done chan struct{}
}

func startTransportNode(t *testing.T, addr string, timeout time.Duration, serve func(raft.RPC)) *transportNode {
	t.Helper()
	m, err := Listen(addr, nil, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	a := raft.ServerAddress(m.Addr().String())
	tr, err := m.NewTransport(TransportConfig{Group: testGroup, Local: a, Timeout: timeout})
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	n := &transportNode{m: m, t: tr, addr: a, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(n.done)
		for {
			select {
			case rpc := <-tr.Consumer():
				serve(rpc)
			case <-n.stop:
				return
			}
		}
	}()
	t.Cleanup(n.close)
	return n
}

func (n *transportNode) close() {
	select {
	case <-n.stop:
		return
	default:
	}
	close(n.stop)
	<-n.done
	n.t.Close()
	n.m.Close()
}

func header(a raft.ServerAddress) raft.RPCHeader {
	return raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(a), Addr: []byte(a)}
}

func appendReq(from raft.ServerAddress, prev uint64, n int) *raft.AppendEntriesRequest {
	a := &raft.AppendEntriesRequest{RPCHeader: header(from), Term: 3, PrevLogEntry: prev, PrevLogTerm: 3, LeaderCommitIndex: prev}
	for i := range n {
		a.Entries = append(a.Entries, &raft.Log{Index: prev + 1 + uint64(i), Term: 3, Type: raft.LogCommand, Data: fmt.Appendf(nil, "entry %d", prev+1+uint64(i))})
	}
	return a
}

func heartbeatReq(from raft.ServerAddress) *raft.AppendEntriesRequest {
	return &raft.AppendEntriesRequest{RPCHeader: header(from), Term: 3}
}

// ack answers an AppendEntries as a follower whose log now ends at the
// request's last entry.
func ack(rpc raft.RPC) {
	a := rpc.Command.(*raft.AppendEntriesRequest)
	rpc.Respond(&raft.AppendEntriesResponse{RPCHeader: header("server"), Term: a.Term, LastLog: a.PrevLogEntry + uint64(len(a.Entries)), Success: true}, nil)
}

// Pipelined appends reach the follower in the order they were sent, with
// their entries intact, and their answers come back to raft in that order
// (the follower takes its time over some of them).
func TestTransportPipelineInOrder(t *testing.T) {
	const n = 400
	var got []uint64
	server := startTransportNode(t, "127.0.0.1:0", 5*time.Second, func(rpc raft.RPC) {
		a := rpc.Command.(*raft.AppendEntriesRequest)
		got = append(got, a.PrevLogEntry)
		for i, l := range a.Entries {
			if want := fmt.Sprintf("entry %d", a.PrevLogEntry+1+uint64(i)); l.Index != a.PrevLogEntry+1+uint64(i) || string(l.Data) != want {
				rpc.Respond(nil, fmt.Errorf("entry %d: %d %q", i, l.Index, l.Data))
				return
			}
		}
		if rand.IntN(8) == 0 {
			time.Sleep(time.Millisecond) // a slow disk write
		}
		ack(rpc)
	})
	client := startTransportNode(t, "127.0.0.1:0", 5*time.Second, func(rpc raft.RPC) { rpc.Respond(nil, errors.New("unexpected")) })
	p, err := client.t.AppendEntriesPipeline("server", server.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	answered := make(chan error, 1)
	go func() {
		for i := range n {
			f := <-p.Consumer()
			if f.Error() != nil {
				answered <- fmt.Errorf("append %d: %w", i, f.Error())
				return
			}
			if f.Request().PrevLogEntry != uint64(i*2) || !f.Response().Success || f.Response().LastLog != uint64(i*2+2) {
				answered <- fmt.Errorf("answer %d is for prev=%d: %+v", i, f.Request().PrevLogEntry, f.Response())
				return
			}
		}
		answered <- nil
	}()
	for i := range n {
		if _, err := p.AppendEntries(appendReq(client.addr, uint64(i*2), 2), new(raft.AppendEntriesResponse)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	select {
	case err := <-answered:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("answers did not all come back")
	}
	server.close() // the serve goroutine has stopped: got is ours
	if len(got) != n {
		t.Fatalf("follower saw %d appends, want %d", len(got), n)
	}
	for i, prev := range got {
		if prev != uint64(i*2) {
			t.Fatalf("append %d reached the follower as %d-th: order %v...", prev/2, i, got[:i+1])
		}
	}
}

// A heartbeat is answered while an append is still being written on the
// follower (it does not queue behind it); the append completes once the
// write is done.
func TestTransportHeartbeatNotBehindAppend(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	server := startTransportNode(t, "127.0.0.1:0", 5*time.Second, func(rpc raft.RPC) {
		entered <- struct{}{}
		<-release // the disk write of the append
		ack(rpc)
	})
	var beats atomic.Int32
	server.t.SetHeartbeatHandler(func(rpc raft.RPC) {
		beats.Add(1)
		ack(rpc)
	})
	client := startTransportNode(t, "127.0.0.1:0", 5*time.Second, func(rpc raft.RPC) {})
	p, err := client.t.AppendEntriesPipeline("server", server.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.AppendEntries(appendReq(client.addr, 0, 1), new(raft.AppendEntriesResponse)); err != nil {
		t.Fatal(err)
	}
	<-entered
	// were heartbeats queued behind the append, these would wait for
	// release, which comes only after them: the RPC would time out
	for i := range 3 {
		var resp raft.AppendEntriesResponse
		if err := client.t.AppendEntries("server", server.addr, heartbeatReq(client.addr), &resp); err != nil || !resp.Success {
			t.Fatalf("heartbeat %d while an append is in progress: %v %+v", i, err, resp)
		}
	}
	if beats.Load() != 3 {
		t.Fatalf("heartbeat handler ran %d times, want 3", beats.Load())
	}
	close(release)
	select {
	case f := <-p.Consumer():
		if f.Error() != nil || !f.Response().Success {
			t.Fatalf("append: %v %+v", f.Error(), f.Response())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the append was not answered once released")
	}
}

// An RPC the follower never answers fails after the timeout (as an error,
// never as a success), in and out of the pipeline; the session stays
// usable for the next RPCs.
func TestTransportTimeouts(t *testing.T) {
	const timeout = 200 * time.Millisecond
	server := startTransportNode(t, "127.0.0.1:0", timeout, func(rpc raft.RPC) {
		switch rpc.Command.(type) {
		case *raft.AppendEntriesRequest: // swallowed: a follower stuck on its disk
		default:
			rpc.Respond(&raft.RequestVoteResponse{RPCHeader: header("server"), Term: 3, Granted: true}, nil)
		}
	})
	client := startTransportNode(t, "127.0.0.1:0", timeout, func(rpc raft.RPC) {})
	var resp raft.AppendEntriesResponse
	if err := client.t.AppendEntries("server", server.addr, appendReq(client.addr, 0, 1), &resp); !errors.Is(err, errRPCTimeout) {
		t.Fatalf("unanswered append: %v, want a timeout", err)
	}
	p, err := client.t.AppendEntriesPipeline("server", server.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// three appends, one more than MaxInFlight: the third waits for a
	// slot, which the first's timeout frees about when the wait itself
	// times out; either way it fails
	sent := 0
	for i := range 3 {
		_, err := p.AppendEntries(appendReq(client.addr, uint64(i+1), 1), new(raft.AppendEntriesResponse))
		if err == nil {
			sent++
		} else if i < 2 || !errors.Is(err, errRPCTimeout) {
			t.Fatalf("pipelined append %d: %v", i, err)
		}
	}
	for i := range sent {
		select {
		case f := <-p.Consumer():
			if !errors.Is(f.Error(), errRPCTimeout) || f.Response().Success {
				t.Fatalf("unanswered pipelined append %d: %v %+v", i, f.Error(), f.Response())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("pipelined append %d never failed", i)
		}
	}
	var vote raft.RequestVoteResponse
	req := &raft.RequestVoteRequest{RPCHeader: header(client.addr), Term: 4, LastLogIndex: 1, LastLogTerm: 3}
	if err := client.t.RequestVote("server", server.addr, req, &vote); err != nil || !vote.Granted || vote.Term != 3 {
		t.Fatalf("vote after timeouts: %v %+v", err, vote)
	}
}

// A peer that restarts on the same address is reached again (the dead
// session is replaced); RPCs to it while it is down fail, not hang, and a
// pipeline opened before the restart reports failure.
func TestTransportPeerRestart(t *testing.T) {
	voter := func(rpc raft.RPC) {
		switch rpc.Command.(type) {
		case *raft.RequestVoteRequest:
			rpc.Respond(&raft.RequestVoteResponse{RPCHeader: header("server"), Term: 5, Granted: true}, nil)
		case *raft.AppendEntriesRequest:
			ack(rpc)
		}
	}
	server := startTransportNode(t, "127.0.0.1:0", 2*time.Second, voter)
	client := startTransportNode(t, "127.0.0.1:0", 2*time.Second, func(raft.RPC) {})
	vote := func() error {
		var resp raft.RequestVoteResponse
		err := client.t.RequestVote("server", server.addr, &raft.RequestVoteRequest{RPCHeader: header(client.addr), Term: 5}, &resp)
		if err == nil && !resp.Granted {
			err = fmt.Errorf("not granted: %+v", resp)
		}
		return err
	}
	if err := vote(); err != nil {
		t.Fatal(err)
	}
	p, err := client.t.AppendEntriesPipeline("server", server.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	addr := string(server.addr)
	server.close()
	if err := vote(); err == nil {
		t.Fatal("a vote to a stopped peer succeeded")
	}
	_, err = p.AppendEntries(appendReq(client.addr, 0, 1), new(raft.AppendEntriesResponse))
	if err == nil {
		select {
		case f := <-p.Consumer():
			err = f.Error()
		case <-time.After(10 * time.Second):
			t.Fatal("an append to a stopped peer neither failed nor was answered")
		}
	}
	if err == nil {
		t.Fatal("the pipeline to a stopped peer reported success")
	}

	poll(t, 10*time.Second, "the address to be free again", func() bool {
		m, err := Listen(addr, nil, logging.Discard())
		if err == nil {
			m.Close()
		}
		return err == nil
	})
	startTransportNode(t, addr, 2*time.Second, voter)
	poll(t, 10*time.Second, "vote to the restarted peer", func() bool { return vote() == nil })
}

// A snapshot streams to the follower's raft intact with its request; the
// follower's answer (or its error) comes back.
func TestTransportInstallSnapshot(t *testing.T) {
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(rand.Uint32())
	}
	want := sha256.Sum256(data)
	server := startTransportNode(t, "127.0.0.1:0", 2*time.Second, func(rpc raft.RPC) {
		req := rpc.Command.(*raft.InstallSnapshotRequest)
		h := sha256.New()
		n, err := io.Copy(h, rpc.Reader)
		switch {
		case err != nil:
			rpc.Respond(nil, err)
		case req.Term == 13:
			rpc.Respond(nil, errors.New("refused: stale term"))
		case n != req.Size || !bytes.Equal(h.Sum(nil), want[:]) || string(req.Configuration) != "conf" || req.LastLogIndex != 99:
			rpc.Respond(nil, fmt.Errorf("got %d bytes, request %+v", n, req))
		default:
			rpc.Respond(&raft.InstallSnapshotResponse{RPCHeader: header("server"), Term: req.Term, Success: true}, nil)
		}
	})
	client := startTransportNode(t, "127.0.0.1:0", 2*time.Second, func(raft.RPC) {})
	req := &raft.InstallSnapshotRequest{RPCHeader: header(client.addr), SnapshotVersion: 1, Term: 12, LastLogIndex: 99, LastLogTerm: 12,
		Configuration: []byte("conf"), ConfigurationIndex: 4, Size: int64(len(data))}
	var resp raft.InstallSnapshotResponse
	if err := client.t.InstallSnapshot("server", server.addr, req, &resp, bytes.NewReader(data)); err != nil || !resp.Success || resp.Term != 12 {
		t.Fatalf("install: %v %+v", err, resp)
	}
	req.Term = 13
	if err := client.t.InstallSnapshot("server", server.addr, req, &resp, bytes.NewReader(data)); err == nil || !strings.Contains(err.Error(), "stale term") {
		t.Fatalf("refused install: %v, want the follower's error", err)
	}
}

// An RPC to a group the peer does not host is answered with an error at
// once (raft backs off and retries), not left to time out.
func TestTransportUnknownGroup(t *testing.T) {
	server := startTransportNode(t, "127.0.0.1:0", 5*time.Second, func(raft.RPC) {})
	other, err := server.m.NewTransport(TransportConfig{Group: testGroup + 1, Local: server.addr})
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	client, err := Listen("127.0.0.1:0", nil, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ct, err := client.NewTransport(TransportConfig{Group: testGroup + 1, Local: raft.ServerAddress(client.Addr().String()), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ct.Close()
	var resp raft.RequestVoteResponse
	start := time.Now()
	err = ct.RequestVote("server", server.addr, &raft.RequestVoteRequest{RPCHeader: header(ct.LocalAddr()), Term: 1}, &resp)
	if err == nil || !strings.Contains(err.Error(), "no such raft group") {
		t.Fatalf("vote to a group the peer does not host: %v", err)
	}
	if errors.Is(err, errRPCTimeout) || time.Since(start) >= 5*time.Second {
		t.Fatal("the error came from the timeout")
	}
}

func poll(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
