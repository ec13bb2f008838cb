package kvd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"

	"github.com/anvilstack/anvil/kvd/fsm"
	"github.com/anvilstack/anvil/pkg/raftstore"
)

// Forwarding: a node that does not lead a key's shard sends the request to
// the leader as a call on the Raft mux (pkg/raftstore call.go), on the one
// session per node pair that Raft traffic uses, so many concurrent
// forwarded requests share each writev and read. The leader runs it here
// or nowhere (a replica that is not the leader answers "not the leader"
// with the leader's name), and the origin writes the HTTP reply.

// serviceKV is the mux service of forwarded KV requests.
const serviceKV byte = 1

const fwdVersion = 1

// Forwarded request flags.
const (
	fwdHasPrev = 1 << iota
	fwdStale
)

// Forwarded reply kinds: an outcome kind (outValue...outFailed), or:
const (
	repNotLeader = 10 // not executed; rest: the leader's name, if known
	repError     = 11 // status(uvarint) message
)

// appendFwdRequest encodes req for shard:
//
//	version(1) method(1: G P D) flags(1) shard(uvarint) prev(uvarint)
//	ttl_ms(uvarint) keylen(uvarint) key value
func appendFwdRequest(dst []byte, req *kvRequest, shard int) []byte {
	var m byte
	switch req.method {
	case http.MethodGet:
		m = 'G'
	case http.MethodPut:
		m = 'P'
	case http.MethodDelete:
		m = 'D'
	}
	var flags byte
	if req.hasPrev {
		flags |= fwdHasPrev
	}
	if req.stale {
		flags |= fwdStale
	}
	dst = append(dst, fwdVersion, m, flags)
	dst = binary.AppendUvarint(dst, uint64(shard))
	dst = binary.AppendUvarint(dst, req.prev)
	dst = binary.AppendUvarint(dst, uint64(req.ttl.Milliseconds()))
	dst = binary.AppendUvarint(dst, uint64(len(req.key)))
	dst = append(dst, req.key...)
	return append(dst, req.value...)
}

var errBadForward = errors.New("malformed forwarded request")

// decodeFwdRequest parses what appendFwdRequest wrote, with the limits the
// API enforces. Key and value alias b.
func decodeFwdRequest(b []byte, req *kvRequest) (shard int, err error) {
	if len(b) < 3 || b[0] != fwdVersion || b[2]&^(fwdHasPrev|fwdStale) != 0 {
		return 0, errBadForward
	}
	*req = kvRequest{}
	switch b[1] {
	case 'G':
		req.method = http.MethodGet
	case 'P':
		req.method = http.MethodPut
	case 'D':
		req.method = http.MethodDelete
	default:
		return 0, errBadForward
	}
	flags := b[2]
	req.hasPrev, req.stale = flags&fwdHasPrev != 0, flags&fwdStale != 0
	b = b[3:]
	var v [4]uint64
	for i := range v {
		n, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, errBadForward
		}
		v[i], b = n, b[k:]
	}
	if v[0] >= MaxShards || v[1] >= 1<<63 || v[2] > uint64(maxTTL.Milliseconds()) || v[3] == 0 || v[3] > fsm.MaxKeyLen || v[3] > uint64(len(b)) {
		return 0, errBadForward
	}
	req.prev = v[1]
	req.ttl = msDuration(v[2])
	req.key, b = b[:v[3]:v[3]], b[v[3]:]
	if req.method == http.MethodPut {
		if len(b) > fsm.MaxValueLen {
			return 0, errBadForward
		}
		req.value = b
	} else if len(b) != 0 {
		return 0, errBadForward
	}
	if (req.stale && req.method != http.MethodGet) || (req.hasPrev && req.method == http.MethodGet) || (req.ttl != 0 && req.method != http.MethodPut) {
		return 0, errBadForward
	}
	return int(v[0]), nil
}

// appendOutcome encodes a reply: the outcome's kind, then
//
//	outValue: revision(uvarint) value   outWritten: revision(uvarint)
//	outDeleted: revision(uvarint) deleted(1)
//	outFailed: current(uvarint)         outNotFound: nothing
func appendOutcome(dst []byte, o *outcome) []byte {
	dst = append(dst, o.kind)
	switch o.kind {
	case outValue:
		dst = binary.AppendUvarint(dst, o.rev)
		dst = append(dst, o.value...)
	case outWritten, outFailed:
		dst = binary.AppendUvarint(dst, o.rev)
	case outDeleted:
		dst = binary.AppendUvarint(dst, o.rev)
		var d byte
		if o.deleted {
			d = 1
		}
		dst = append(dst, d)
	}
	return dst
}

// decodeReply parses a forwarded reply into an outcome, a leader hint
// (errNotLeader), or the error the leader answered with.
func decodeReply(b []byte, o *outcome) (hint string, err error) {
	if len(b) == 0 {
		return "", errBadForward
	}
	*o = outcome{kind: b[0]}
	b = b[1:]
	switch o.kind {
	case outNotFound:
		if len(b) != 0 {
			return "", errBadForward
		}
	case outValue, outWritten, outDeleted, outFailed:
		n, k := binary.Uvarint(b)
		if k <= 0 {
			return "", errBadForward
		}
		o.rev, b = n, b[k:]
		switch o.kind {
		case outValue:
			o.value = b
		case outDeleted:
			if len(b) != 1 || b[0] > 1 {
				return "", errBadForward
			}
			o.deleted = b[0] == 1
		default:
			if len(b) != 0 {
				return "", errBadForward
			}
		}
	case repNotLeader:
		return string(b), errNotLeader
	case repError:
		n, k := binary.Uvarint(b)
		if k <= 0 || n < 400 || n > 599 {
			return "", errBadForward
		}
		return "", &apiError{status: int(n), msg: string(b[k:])}
	default:
		return "", errBadForward
	}
	return "", nil
}

func appendError(dst []byte, status int, msg string) []byte {
	dst = append(dst, repError)
	dst = binary.AppendUvarint(dst, uint64(status))
	return append(dst, msg...)
}

// serveForwarded runs a request another node forwarded (a mux call).
func (s *Service) serveForwarded(ctx context.Context, payload []byte) []byte {
	var req kvRequest
	shardID, err := decodeFwdRequest(payload, &req)
	if err != nil {
		return appendError(nil, http.StatusBadRequest, err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	g := s.group(shardID)
	if g == nil || !(g.isLeader() || (req.stale && req.method == http.MethodGet)) {
		return s.notLeaderReply(shardID)
	}
	buf := getBuf()
	defer putBuf(buf)
	o, err := s.execute(ctx, g, &req, (*buf)[:0])
	*buf = o.value[:0]
	switch {
	case err == nil:
		return appendOutcome(make([]byte, 0, 16+len(o.value)), &o)
	case errors.Is(err, errNotLeader):
		return s.notLeaderReply(shardID)
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return appendError(nil, ae.status, ae.msg)
	}
	return appendError(nil, http.StatusServiceUnavailable, err.Error())
}

func (s *Service) notLeaderReply(shardID int) []byte {
	hint := s.shardLeader(shardID)
	if hint == s.name {
		hint = ""
	}
	return append([]byte{repNotLeader}, hint...)
}

// forward sends req to node (its Raft mux) and decodes the reply. It
// returns errNotLeader (with a leader hint, if any) when the request was
// certainly not executed, and errUnknown when the outcome cannot be known.
// o.value, if any, aliases the reply.
func (s *Service) forward(ctx context.Context, raftAddr string, req *kvRequest, shardID int, o *outcome) (string, error) {
	buf := getBuf()
	*buf = appendFwdRequest((*buf)[:0], req, shardID)
	resp, err := s.mux.Call(ctx, raftAddr, serviceKV, *buf)
	putBuf(buf)
	if err != nil {
		var ns *raftstore.NotSentError
		switch {
		case errors.As(err, &ns):
			s.m.forwards.dialFailed.Inc()
			return "", errNotLeader // never reached a handler
		case req.method == http.MethodGet:
			s.m.forwards.failed.Inc()
			return "", errNotLeader // a read has no effect: retry, or 503 once ctx ends
		}
		s.m.forwards.failed.Inc()
		return "", fmt.Errorf("%w: forwarding to %s: %v", errUnknown, raftAddr, err)
	}
	hint, err := decodeReply(resp, o)
	switch {
	case errors.Is(err, errNotLeader):
		s.m.forwards.notLeader.Inc()
	case errors.Is(err, errBadForward):
		s.m.forwards.failed.Inc()
		return "", fmt.Errorf("%w: reply from %s: %v", errUnknown, raftAddr, err)
	default:
		s.m.forwards.ok.Inc()
	}
	return hint, err
}
