package raftstore

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

var hdr = raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("n1"), Addr: []byte("127.0.0.1:7071")}

func sampleAppend() *raft.AppendEntriesRequest {
	return &raft.AppendEntriesRequest{RPCHeader: hdr, Term: 7, PrevLogEntry: 41, PrevLogTerm: 6, LeaderCommitIndex: 40,
		Entries: []*raft.Log{
			{Index: 42, Term: 7, Type: raft.LogCommand, Data: []byte("put k v"), AppendedAt: time.Unix(0, 1700000000123456789)},
			{Index: 43, Term: 7, Type: raft.LogConfiguration, Data: bytes.Repeat([]byte{9}, 300), Extensions: []byte("ext")},
			{Index: 44, Term: 7, Type: raft.LogNoop},
		}}
}

// Every RPC and response survives encoding and decoding unchanged.
func TestRPCCodecRoundTrip(t *testing.T) {
	check := func(name string, in, out any, enc func(wbuf) wbuf, dec func([]byte) error) {
		t.Helper()
		b := enc(nil)
		if err := dec(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("%s: %+v -> %+v", name, in, out)
		}
		for i := range len(b) { // every truncation is refused
			if dec(b[:i]) == nil {
				t.Fatalf("%s: %d of %d bytes decoded", name, i, len(b))
			}
		}
		if dec(append(b, 0)) == nil {
			t.Fatalf("%s: trailing byte accepted", name)
		}
	}
	ae, ae2 := sampleAppend(), new(raft.AppendEntriesRequest)
	check("append", ae, ae2, func(b wbuf) wbuf { return appendAppendEntries(b, ae) }, func(b []byte) error { return decodeAppendEntries(b, ae2) })
	aer, aer2 := &raft.AppendEntriesResponse{RPCHeader: hdr, Term: 7, LastLog: 44, Success: true, NoRetryBackoff: true}, new(raft.AppendEntriesResponse)
	check("append response", aer, aer2, func(b wbuf) wbuf { return appendAppendEntriesResponse(b, aer) }, func(b []byte) error { return decodeAppendEntriesResponse(b, aer2) })
	rv, rv2 := &raft.RequestVoteRequest{RPCHeader: hdr, Term: 8, LastLogIndex: 44, LastLogTerm: 7, LeadershipTransfer: true}, new(raft.RequestVoteRequest)
	check("vote", rv, rv2, func(b wbuf) wbuf { return appendRequestVote(b, rv) }, func(b []byte) error { return decodeRequestVote(b, rv2) })
	rvr, rvr2 := &raft.RequestVoteResponse{RPCHeader: hdr, Term: 8, Peers: []byte("p"), Granted: true}, new(raft.RequestVoteResponse)
	check("vote response", rvr, rvr2, func(b wbuf) wbuf { return appendRequestVoteResponse(b, rvr) }, func(b []byte) error { return decodeRequestVoteResponse(b, rvr2) })
	pv, pv2 := &raft.RequestPreVoteRequest{RPCHeader: hdr, Term: 9, LastLogIndex: 44, LastLogTerm: 7}, new(raft.RequestPreVoteRequest)
	check("prevote", pv, pv2, func(b wbuf) wbuf { return appendRequestPreVote(b, pv) }, func(b []byte) error { return decodeRequestPreVote(b, pv2) })
	pvr, pvr2 := &raft.RequestPreVoteResponse{RPCHeader: hdr, Term: 9, Granted: true}, new(raft.RequestPreVoteResponse)
	check("prevote response", pvr, pvr2, func(b wbuf) wbuf { return appendRequestPreVoteResponse(b, pvr) }, func(b []byte) error { return decodeRequestPreVoteResponse(b, pvr2) })
	tn, tn2 := &raft.TimeoutNowRequest{RPCHeader: hdr}, new(raft.TimeoutNowRequest)
	check("timeout now", tn, tn2, func(b wbuf) wbuf { return appendTimeoutNow(b, tn) }, func(b []byte) error { return decodeTimeoutNow(b, tn2) })
	tnr, tnr2 := &raft.TimeoutNowResponse{RPCHeader: hdr}, new(raft.TimeoutNowResponse)
	check("timeout now response", tnr, tnr2, func(b wbuf) wbuf { return appendTimeoutNowResponse(b, tnr) }, func(b []byte) error { return decodeTimeoutNowResponse(b, tnr2) })
	is, is2 := &raft.InstallSnapshotRequest{RPCHeader: hdr, SnapshotVersion: 1, Term: 9, LastLogIndex: 100, LastLogTerm: 9,
		Peers: []byte("p"), Configuration: []byte("conf"), ConfigurationIndex: 3, Size: 1 << 33}, new(raft.InstallSnapshotRequest)
	check("snapshot", is, is2, func(b wbuf) wbuf { return appendInstallSnapshot(b, is) }, func(b []byte) error { return decodeInstallSnapshot(b, is2) })
	isr, isr2 := &raft.InstallSnapshotResponse{RPCHeader: hdr, Term: 9, Success: true}, new(raft.InstallSnapshotResponse)
	check("snapshot response", isr, isr2, func(b wbuf) wbuf { return appendInstallSnapshotResponse(b, isr) }, func(b []byte) error { return decodeInstallSnapshotResponse(b, isr2) })

	// A request must name its sender's address: raft takes the leader's
	// (or candidate's) address from it, the deprecated fields not being sent.
	anon := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("n1")}
	ae.RPCHeader, rv.RPCHeader, is.RPCHeader = anon, anon, anon
	if decodeAppendEntries(appendAppendEntries(nil, ae), ae2) == nil || decodeRequestVote(appendRequestVote(nil, rv), rv2) == nil ||
		decodeInstallSnapshot(appendInstallSnapshot(nil, is), is2) == nil {
		t.Fatal("a request without the sender's address was accepted")
	}
}

// Decoding arbitrary bytes as any RPC never panics or over-allocates, and
// whatever decodes survives re-encoding: decoding the re-encoded bytes
// gives the same value (and they re-encode identically).
func FuzzDecodeRPC(f *testing.F) {
	f.Add(byte(rpcAppendEntries), []byte(appendAppendEntries(nil, sampleAppend())))
	f.Add(byte(rpcRequestVote), []byte(appendRequestVote(nil, &raft.RequestVoteRequest{RPCHeader: hdr, Term: 1})))
	f.Add(byte(3), []byte(appendInstallSnapshot(nil, &raft.InstallSnapshotRequest{RPCHeader: hdr, Size: 5})))
	f.Add(byte(2), []byte(appendAppendEntriesResponse(nil, &raft.AppendEntriesResponse{RPCHeader: hdr, Term: 3, LastLog: 9, Success: true})))
	f.Add(byte(7), []byte(appendTimeoutNow(nil, &raft.TimeoutNowRequest{RPCHeader: hdr})))
	f.Fuzz(func(t *testing.T, kind byte, b []byte) {
		switch kind % 12 {
		case 0:
			roundTrip(t, b, decodeAppendEntries, appendAppendEntries)
		case 1:
			roundTrip(t, b, decodeRequestVote, appendRequestVote)
		case 2:
			roundTrip(t, b, decodeAppendEntriesResponse, appendAppendEntriesResponse)
		case 3:
			roundTrip(t, b, decodeInstallSnapshot, appendInstallSnapshot)
		case 4:
			roundTrip(t, b, decodeRequestPreVote, appendRequestPreVote)
		case 5:
			roundTrip(t, b, decodeRequestVoteResponse, appendRequestVoteResponse)
		case 6:
			roundTrip(t, b, decodeRequestPreVoteResponse, appendRequestPreVoteResponse)
		case 7:
			roundTrip(t, b, decodeTimeoutNow, appendTimeoutNow)
		case 8:
			roundTrip(t, b, decodeTimeoutNowResponse, appendTimeoutNowResponse)
		case 9:
			roundTrip(t, b, decodeInstallSnapshotResponse, appendInstallSnapshotResponse)
		default:
			// a whole request frame's payload, as the read loop hands it on
			if len(b) >= 5 {
				roundTrip(t, b[5:], decodeAppendEntries, appendAppendEntries)
			}
		}
	})
}

func roundTrip[T any](t *testing.T, b []byte, dec func([]byte, *T) error, enc func(wbuf, *T) wbuf) {
	var a, a2 T
	if dec(b, &a) != nil {
		return
	}
	b2 := enc(nil, &a)
	if err := dec(b2, &a2); err != nil {
		t.Fatalf("re-encoded %+v does not decode: %v", a, err)
	}
	if !reflect.DeepEqual(a, a2) {
		t.Fatalf("round trip changed %+v to %+v", a, a2)
	}
	if b3 := enc(nil, &a2); !bytes.Equal(b2, b3) {
		t.Fatalf("encoding is not stable: %x, %x", []byte(b2), []byte(b3))
	}
}
