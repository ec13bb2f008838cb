package kvd

import (
	"bytes"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/anvilstack/anvil/kvd/fsm"
)

// Request parsing never panics, and what it accepts is within the
// contract's limits.
func FuzzParseKV(f *testing.F) {
	f.Add("PUT", "a%2Fb", "prev_revision=3&ttl=30s", []byte("value"))
	f.Add("GET", "k", "consistency=stale", []byte(nil))
	f.Add("GET", "", "prefix=user%2F&start_after=user%2F9&limit=10", []byte(nil))
	f.Add("DELETE", "%zz", "prev_revision=-1", []byte(nil))
	f.Add("PUT", "k", "ttl=5", []byte{})
	f.Fuzz(func(t *testing.T, method, key, query string, body []byte) {
		req, err := parseKV(method, key, query, body)
		if err != nil {
			if _, ok := err.(*apiError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if !req.scan && (len(req.key) == 0 || len(req.key) > 1024) {
			t.Fatalf("accepted a key of %d bytes", len(req.key))
		}
		if len(req.value) > 1<<20 {
			t.Fatalf("accepted a value of %d bytes", len(req.value))
		}
		if req.scan && (req.limit < 1 || req.limit > maxScanLimit || method != http.MethodGet) {
			t.Fatalf("scan with limit %d method %s", req.limit, method)
		}
		if req.ttl < 0 {
			t.Fatalf("negative ttl")
		}
	})
}

// Forwarded requests (the mux call from a node to a shard leader) decode
// without panicking, within the API's limits, and every request parseKV
// accepts survives the round trip unchanged.
func FuzzForwardRequest(f *testing.F) {
	for _, r := range []kvRequest{
		{method: http.MethodPut, key: []byte("a/b"), value: []byte("v"), hasPrev: true, prev: 3, ttl: 30 * time.Second},
		{method: http.MethodGet, key: []byte("k"), stale: true},
		{method: http.MethodDelete, key: []byte("k"), hasPrev: true},
	} {
		f.Add(appendFwdRequest(nil, &r, 7), "PUT", "k", "ttl=2s", []byte("x"))
	}
	f.Fuzz(func(t *testing.T, b []byte, method, key, query string, body []byte) {
		var req kvRequest
		if shard, err := decodeFwdRequest(b, &req); err == nil {
			if shard < 0 || shard >= MaxShards || len(req.key) == 0 || len(req.key) > fsm.MaxKeyLen || len(req.value) > fsm.MaxValueLen || req.ttl < 0 || req.ttl > maxTTL {
				t.Fatalf("accepted shard %d key %d bytes value %d bytes ttl %v", shard, len(req.key), len(req.value), req.ttl)
			}
		}
		in, err := parseKV(method, key, query, body)
		if err != nil || in.scan {
			return
		}
		in.ttl = in.ttl.Truncate(time.Millisecond) // the wire carries milliseconds, as the state machine
		var out kvRequest
		shard, err := decodeFwdRequest(appendFwdRequest(nil, in, 5), &out)
		if err != nil || shard != 5 || out.method != in.method || !bytes.Equal(out.key, in.key) || !bytes.Equal(out.value, in.value) ||
			out.hasPrev != in.hasPrev || out.prev != in.prev || out.ttl != in.ttl || out.stale != in.stale {
			t.Fatalf("round trip: %+v -> %+v (shard %d, %v)", in, out, shard, err)
		}
	})
}

// Forwarded replies decode without panicking, and every outcome survives
// the round trip.
func FuzzForwardReply(f *testing.F) {
	for _, o := range []outcome{{kind: outValue, rev: 9, value: []byte("v")}, {kind: outNotFound}, {kind: outWritten, rev: 1 << 40},
		{kind: outDeleted, rev: 3, deleted: true}, {kind: outFailed, rev: 2}} {
		f.Add(appendOutcome(nil, &o))
	}
	f.Add(appendError(nil, 412, "x"))
	f.Add([]byte{repNotLeader, 'n'})
	f.Fuzz(func(t *testing.T, b []byte) {
		var o outcome
		hint, err := decodeReply(b, &o)
		var ae *apiError
		switch {
		case errors.Is(err, errNotLeader):
			if hint != string(b[1:]) {
				t.Fatalf("hint %q", hint)
			}
		case errors.As(err, &ae):
			if ae.status < 400 || ae.status > 599 {
				t.Fatalf("status %d", ae.status)
			}
		case err == nil:
			var o2 outcome
			if _, err := decodeReply(appendOutcome(nil, &o), &o2); err != nil || o2.kind != o.kind || o2.rev != o.rev || o2.deleted != o.deleted || !bytes.Equal(o2.value, o.value) {
				t.Fatalf("round trip %+v -> %+v %v", o, o2, err)
			}
		case !errors.Is(err, errBadForward):
			t.Fatalf("error %v", err)
		}
	})
}
