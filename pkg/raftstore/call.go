package raftstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Calls are request/response exchanges between nodes on the same sessions
// as Raft traffic (kvd forwards client requests to shard leaders with
// them): a call frame carries a service byte and the request, the reply
// frame the handler's answer, matched by the frame's id. Calls queued while
// the session's writer is busy leave in one writev with everything else,
// so forwarding many concurrent requests costs a few syscalls, not one
// HTTP exchange each.
//
//	call:     type=4 id length service(1) request
//	reply:    type=5 id length response
//	no route: type=6 id length=0     (no handler for the service: not run)

// Handler answers one call. It runs on its own goroutine; the request is
// its to keep, and the mux does not keep the response past queuing it.
// ctx ends when the mux closes (Close waits for running handlers).
type Handler func(ctx context.Context, req []byte) []byte

// NotSentError reports that a call certainly did not reach a handler (no
// session could be opened, the peer has no handler for the service, or
// the call could not be queued): retrying it elsewhere is safe.
type NotSentError struct{ Err error }

func (e *NotSentError) Error() string { return "raftstore call not sent: " + e.Err.Error() }
func (e *NotSentError) Unwrap() error { return e.Err }

var errNoHandler = errors.New("no handler for the service on the peer")

type callResult struct {
	resp []byte
	err  error
}

// waiter receives the answer to one request sent on a session, exactly
// once: the peer's reply, or the error that ended the wait. answer runs on
// the session's read loop (or in fail) and must not block.
type waiter interface {
	answer(resp []byte, err error)
}

// chanWaiter delivers the answer on a channel with room for it.
type chanWaiter chan callResult

func (c chanWaiter) answer(resp []byte, err error) { c <- callResult{resp: resp, err: err} }

// Handle registers h for service on this mux (one handler per service;
// registering again replaces it).
func (m *Mux) Handle(service byte, h Handler) {
	m.mu.Lock()
	m.handlers[service] = h
	m.mu.Unlock()
}

// Call sends req to service on the node at addr and waits for its reply,
// or for ctx. A *NotSentError means the handler never saw the request;
// any other error leaves the outcome unknown.
func (m *Mux) Call(ctx context.Context, addr string, service byte, req []byte) ([]byte, error) {
	s, err := m.session(ctx, addr)
	if err != nil {
		return nil, &NotSentError{Err: err}
	}
	return s.call(ctx, service, req)
}

func (s *session) call(ctx context.Context, service byte, req []byte) ([]byte, error) {
	ch := make(chanWaiter, 1)
	f := frame(frameCall, 0, 1+len(req))
	f[frameHeader] = service
	copy(f[frameHeader+1:], req)
	deadline, _ := ctx.Deadline()
	id, err := s.request(f, ch, deadline)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r.resp, r.err
	case <-ctx.Done():
		s.forget(id)
		return nil, ctx.Err()
	}
}

// request registers w for the answer to the request frame f (its id is
// set here) and queues f. A *NotSentError means f was not queued; w may
// then have been answered already if the session failed meanwhile.
func (s *session) request(f []byte, w waiter, deadline time.Time) (uint32, error) {
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return 0, &NotSentError{Err: err}
	}
	s.nextCall++
	id := s.nextCall
	s.calls[id] = w
	s.mu.Unlock()
	binary.BigEndian.PutUint32(f[1:], id)
	if err := s.enqueue(f, deadline); err != nil {
		s.forget(id)
		return 0, &NotSentError{Err: err}
	}
	return id, nil
}

// forget drops the waiter of id; it reports whether it was still waiting.
func (s *session) forget(id uint32) bool {
	s.mu.Lock()
	_, ok := s.calls[id]
	delete(s.calls, id)
	s.mu.Unlock()
	return ok
}

// served runs a call the peer made and queues the reply.
func (s *session) served(id uint32, payload []byte) {
	if len(payload) == 0 {
		s.fail(errors.New("raftstore: empty call frame"))
		return
	}
	s.m.mu.Lock()
	h := s.m.handlers[payload[0]]
	s.m.mu.Unlock()
	if h == nil {
		_ = s.enqueue(frame(frameNoRoute, id, 0), time.Time{})
		return
	}
	s.m.wg.Add(1) // the read loop holds the group open, so Add is safe
	go func() {
		defer s.m.wg.Done()
		resp := h(s.m.ctx, payload[1:])
		f := frame(frameReply, id, len(resp))
		copy(f[frameHeader:], resp)
		_ = s.enqueue(f, time.Time{}) // a dead session drops it: the caller sees the failure
	}()
}

// answered delivers a reply (or a no-route notice) to the waiting caller.
func (s *session) answered(typ byte, id uint32, payload []byte) {
	s.mu.Lock()
	w := s.calls[id]
	delete(s.calls, id)
	s.mu.Unlock()
	if w == nil {
		return // the caller gave up
	}
	if typ == frameNoRoute {
		w.answer(nil, &NotSentError{Err: errNoHandler})
		return
	}
	w.answer(payload, nil)
}

// failCalls answers every pending request of a failed session.
func failCalls(calls map[uint32]waiter, err error) {
	for _, w := range calls {
		w.answer(nil, fmt.Errorf("raftstore: session lost, outcome unknown: %w", err))
	}
}
