package raftstore

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/hashicorp/raft"
)

// Binary encoding of raft's RPCs for Transport: fields in declaration
// order, integers as (u)varints, byte strings and lists length-prefixed.
// It replaces NetworkTransport's reflection-driven msgpack, which cost more
// than the rest of a small AppendEntries' path.
//
// The deprecated Leader and Candidate fields are not carried: raft (1.8)
// reads them only from peers that send no RPCHeader.Addr, and every request
// of this transport has one (raft sets it; decoding refuses its absence).

// RPC kinds (the byte after the group id in a request frame).
const (
	rpcAppendEntries   = 1
	rpcRequestVote     = 2
	rpcRequestPreVote  = 3
	rpcTimeoutNow      = 4
	rpcInstallSnapshot = 5 // on a stream, not a frame (see Transport.InstallSnapshot)
)

var errBadRPC = errors.New("raftstore: malformed raft rpc")

// wbuf appends encoded fields.
type wbuf []byte

func (b wbuf) u(v uint64) wbuf     { return binary.AppendUvarint(b, v) }
func (b wbuf) i(v int64) wbuf      { return binary.AppendVarint(b, v) }
func (b wbuf) bytes(p []byte) wbuf { return append(binary.AppendUvarint(b, uint64(len(p))), p...) }
func (b wbuf) flag(v bool) wbuf {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func (b wbuf) header(h raft.RPCHeader) wbuf {
	return b.i(int64(h.ProtocolVersion)).bytes(h.ID).bytes(h.Addr)
}

// rbuf decodes fields; the first error sticks and every later read
// returns zero values. Byte strings alias the input.
type rbuf struct {
	b   []byte
	err error
}

func (r *rbuf) u() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadRPC
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rbuf) i() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errBadRPC
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rbuf) bytes() []byte {
	n := r.u()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errBadRPC
		return nil
	}
	if n == 0 {
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *rbuf) flag() bool {
	if r.err != nil {
		return false
	}
	if len(r.b) == 0 || r.b[0] > 1 {
		r.err = errBadRPC
		return false
	}
	v := r.b[0] == 1
	r.b = r.b[1:]
	return v
}

func (r *rbuf) header() raft.RPCHeader {
	return raft.RPCHeader{ProtocolVersion: raft.ProtocolVersion(r.i()), ID: r.bytes(), Addr: r.bytes()}
}

// request decodes a request's header, which must name the sender's
// address (raft takes the leader's or candidate's address from it).
func (r *rbuf) request() raft.RPCHeader {
	h := r.header()
	if r.err == nil && len(h.Addr) == 0 {
		r.err = errBadRPC
	}
	return h
}

// end reports the decoding error, or errBadRPC if bytes are left over.
func (r *rbuf) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errBadRPC
	}
	return r.err
}

func appendAppendEntries(b wbuf, a *raft.AppendEntriesRequest) wbuf {
	b = b.header(a.RPCHeader).u(a.Term).u(a.PrevLogEntry).u(a.PrevLogTerm).u(a.LeaderCommitIndex)
	b = b.u(uint64(len(a.Entries)))
	for _, l := range a.Entries {
		var at int64
		if !l.AppendedAt.IsZero() {
			at = l.AppendedAt.UnixNano()
		}
		b = append(b.u(l.Index).u(l.Term), byte(l.Type))
		b = b.i(at).bytes(l.Data).bytes(l.Extensions)
	}
	return b
}

// decodeAppendEntries decodes into a; entries' Data and Extensions alias p.
func decodeAppendEntries(p []byte, a *raft.AppendEntriesRequest) error {
	r := rbuf{b: p}
	a.RPCHeader = r.request()
	a.Term, a.PrevLogEntry, a.PrevLogTerm, a.LeaderCommitIndex = r.u(), r.u(), r.u(), r.u()
	n := r.u()
	if n > uint64(len(r.b)/4) { // an entry takes at least 4 bytes
		return errBadRPC
	}
	a.Entries = nil
	if n > 0 {
		logs := make([]raft.Log, n)
		a.Entries = make([]*raft.Log, n)
		for i := range logs {
			l := &logs[i]
			l.Index, l.Term = r.u(), r.u()
			if r.err == nil {
				if len(r.b) == 0 {
					return errBadRPC
				}
				l.Type = raft.LogType(r.b[0])
				r.b = r.b[1:]
			}
			if at := r.i(); at != 0 {
				l.AppendedAt = time.Unix(0, at)
			}
			l.Data, l.Extensions = r.bytes(), r.bytes()
			a.Entries[i] = l
		}
	}
	return r.end()
}

func appendAppendEntriesResponse(b wbuf, a *raft.AppendEntriesResponse) wbuf {
	return b.header(a.RPCHeader).u(a.Term).u(a.LastLog).flag(a.Success).flag(a.NoRetryBackoff)
}

func decodeAppendEntriesResponse(p []byte, a *raft.AppendEntriesResponse) error {
	r := rbuf{b: p}
	*a = raft.AppendEntriesResponse{RPCHeader: r.header(), Term: r.u(), LastLog: r.u(), Success: r.flag(), NoRetryBackoff: r.flag()}
	return r.end()
}

func appendRequestVote(b wbuf, a *raft.RequestVoteRequest) wbuf {
	return b.header(a.RPCHeader).u(a.Term).u(a.LastLogIndex).u(a.LastLogTerm).flag(a.LeadershipTransfer)
}

func decodeRequestVote(p []byte, a *raft.RequestVoteRequest) error {
	r := rbuf{b: p}
	*a = raft.RequestVoteRequest{RPCHeader: r.request(), Term: r.u(), LastLogIndex: r.u(), LastLogTerm: r.u(), LeadershipTransfer: r.flag()}
	return r.end()
}

func appendRequestVoteResponse(b wbuf, a *raft.RequestVoteResponse) wbuf {
	return b.header(a.RPCHeader).u(a.Term).bytes(a.Peers).flag(a.Granted)
}

func decodeRequestVoteResponse(p []byte, a *raft.RequestVoteResponse) error {
	r := rbuf{b: p}
	*a = raft.RequestVoteResponse{RPCHeader: r.header(), Term: r.u(), Peers: r.bytes(), Granted: r.flag()}
	return r.end()
}

func appendRequestPreVote(b wbuf, a *raft.RequestPreVoteRequest) wbuf {
	return b.header(a.RPCHeader).u(a.Term).u(a.LastLogIndex).u(a.LastLogTerm)
}

func decodeRequestPreVote(p []byte, a *raft.RequestPreVoteRequest) error {
	r := rbuf{b: p}
	*a = raft.RequestPreVoteRequest{RPCHeader: r.request(), Term: r.u(), LastLogIndex: r.u(), LastLogTerm: r.u()}
	return r.end()
}

func appendRequestPreVoteResponse(b wbuf, a *raft.RequestPreVoteResponse) wbuf {
	return b.header(a.RPCHeader).u(a.Term).flag(a.Granted)
}

func decodeRequestPreVoteResponse(p []byte, a *raft.RequestPreVoteResponse) error {
	r := rbuf{b: p}
	*a = raft.RequestPreVoteResponse{RPCHeader: r.header(), Term: r.u(), Granted: r.flag()}
	return r.end()
}

func appendTimeoutNow(b wbuf, a *raft.TimeoutNowRequest) wbuf { return b.header(a.RPCHeader) }

func decodeTimeoutNow(p []byte, a *raft.TimeoutNowRequest) error {
	r := rbuf{b: p}
	*a = raft.TimeoutNowRequest{RPCHeader: r.request()}
	return r.end()
}

func appendTimeoutNowResponse(b wbuf, a *raft.TimeoutNowResponse) wbuf { return b.header(a.RPCHeader) }

func decodeTimeoutNowResponse(p []byte, a *raft.TimeoutNowResponse) error {
	r := rbuf{b: p}
	*a = raft.TimeoutNowResponse{RPCHeader: r.header()}
	return r.end()
}

func appendInstallSnapshot(b wbuf, a *raft.InstallSnapshotRequest) wbuf {
	b = b.header(a.RPCHeader).i(int64(a.SnapshotVersion)).u(a.Term).u(a.LastLogIndex).u(a.LastLogTerm)
	return b.bytes(a.Peers).bytes(a.Configuration).u(a.ConfigurationIndex).i(a.Size)
}

func decodeInstallSnapshot(p []byte, a *raft.InstallSnapshotRequest) error {
	r := rbuf{b: p}
	*a = raft.InstallSnapshotRequest{RPCHeader: r.request(), SnapshotVersion: raft.SnapshotVersion(r.i()), Term: r.u(),
		LastLogIndex: r.u(), LastLogTerm: r.u(), Peers: r.bytes(), Configuration: r.bytes(), ConfigurationIndex: r.u(), Size: r.i()}
	if r.err == nil && a.Size < 0 {
		return errBadRPC
	}
	return r.end()
}

func appendInstallSnapshotResponse(b wbuf, a *raft.InstallSnapshotResponse) wbuf {
	return b.header(a.RPCHeader).u(a.Term).flag(a.Success)
}

func decodeInstallSnapshotResponse(p []byte, a *raft.InstallSnapshotResponse) error {
	r := rbuf{b: p}
	*a = raft.InstallSnapshotResponse{RPCHeader: r.header(), Term: r.u(), Success: r.flag()}
	return r.end()
}
