package kvd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anvilstack/anvil/kvd/fsm"
	"github.com/anvilstack/anvil/kvd/placement"
	"github.com/anvilstack/anvil/pkg/admin"
)

// Wire details of the KV API (CONTRACT.md, "kvd").
const (
	kvPrefix        = "/v1/kv/"
	scanPath        = "/v1/internal/scan"
	hdrRevision     = "Kv-Revision"
	hdrForwarded    = "Kvd-Forwarded" // set on internal scan requests one node sends another
	hdrLeaderHint   = "Kvd-Leader"    // on 421: the API address of the leader, if known
	maxScanLimit    = 10000
	defaultLimit    = 1000
	statusNotLeader = http.StatusMisdirectedRequest // internal: not executed here, try the leader
	maxTTL          = 10 * 365 * 24 * time.Hour
)

func msDuration(ms uint64) time.Duration { return time.Duration(ms) * time.Millisecond }

// apiError is an error with the HTTP status it maps to.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// kvRequest is a parsed KV API request.
type kvRequest struct {
	method     string
	key        []byte
	value      []byte
	hasPrev    bool
	prev       uint64
	ttl        time.Duration
	stale      bool
	scanPrefix []byte
	startAfter []byte
	limit      int
	scan       bool
}

// parseKV parses method, escaped path (after /v1/kv/), query and body
// into a request, or returns a 400 error naming the problem.
func parseKV(method, escapedKey, rawQuery string, body []byte) (*kvRequest, error) {
	key, err := url.PathUnescape(escapedKey)
	if err != nil {
		return nil, badRequest("key is not valid percent-encoding: %v", err)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, badRequest("bad query string: %v", err)
	}
	req := &kvRequest{method: method, key: []byte(key)}
	allowed := map[string]bool{}
	switch {
	case method == http.MethodGet && key == "":
		req.scan = true
		allowed = map[string]bool{"prefix": true, "start_after": true, "limit": true, "consistency": true}
	case method == http.MethodGet:
		allowed["consistency"] = true
	case method == http.MethodPut:
		allowed["prev_revision"], allowed["ttl"] = true, true
	case method == http.MethodDelete:
		allowed["prev_revision"] = true
	default:
		return nil, &apiError{status: http.StatusMethodNotAllowed, msg: "method " + method + " not allowed"}
	}
	for name, vs := range q {
		if !allowed[name] {
			return nil, badRequest("unknown parameter %q for %s", name, method)
		}
		if len(vs) != 1 {
			return nil, badRequest("parameter %q given %d times", name, len(vs))
		}
	}
	if !req.scan {
		if len(req.key) == 0 {
			return nil, badRequest("empty key")
		}
		if len(req.key) > fsm.MaxKeyLen {
			return nil, badRequest("key is %d bytes; at most %d", len(req.key), fsm.MaxKeyLen)
		}
	}
	if v, ok := q["prev_revision"]; ok {
		n, err := strconv.ParseUint(v[0], 10, 63)
		if err != nil {
			return nil, badRequest("prev_revision %q is not a revision (a non-negative integer)", v[0])
		}
		req.hasPrev, req.prev = true, n
	}
	if v, ok := q["ttl"]; ok {
		d, err := time.ParseDuration(v[0])
		if err != nil {
			if n, nerr := strconv.ParseUint(v[0], 10, 32); nerr == nil {
				d, err = time.Duration(n)*time.Second, nil
			}
		}
		if err != nil || d < time.Millisecond || d > maxTTL {
			return nil, badRequest("ttl %q must be a duration between 1ms and 10 years, such as 30s", v[0])
		}
		req.ttl = d
	}
	if v, ok := q["consistency"]; ok {
		switch v[0] {
		case "stale":
			req.stale = true
		case "linearizable", "":
		default:
			return nil, badRequest("consistency %q must be linearizable or stale", v[0])
		}
	}
	if req.scan {
		req.scanPrefix = []byte(q.Get("prefix"))
		req.startAfter = []byte(q.Get("start_after"))
		req.limit = defaultLimit
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxScanLimit {
				return nil, badRequest("limit %q must be between 1 and %d", v, maxScanLimit)
			}
			req.limit = n
		}
	}
	if method == http.MethodPut {
		if len(body) > fsm.MaxValueLen {
			return nil, badRequest("value is larger than %d bytes", fsm.MaxValueLen)
		}
		req.value = body
	}
	return req, nil
}

// ServeHTTP routes the KV API. Paths are not cleaned (a key may contain
// "//" or ".."), so there is no ServeMux here.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	switch {
	case strings.HasPrefix(path, kvPrefix):
		s.serveKV(w, r, path[len(kvPrefix):])
	case path == "/v1/cluster" && r.Method == http.MethodGet:
		s.serveCluster(w, r)
	case path == scanPath && r.Method == http.MethodGet:
		s.serveShardScan(w, r)
	default:
		admin.WriteError(w, http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path)
	}
}

func (s *Service) serveKV(w http.ResponseWriter, r *http.Request, escapedKey string) {
	var body []byte
	if r.Method == http.MethodPut {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, fsm.MaxValueLen+1))
		if err != nil {
			admin.WriteError(w, http.StatusBadRequest, "reading the value: "+err.Error())
			return
		}
	}
	req, err := parseKV(r.Method, escapedKey, r.URL.RawQuery, body)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	if req.scan {
		s.m.requests.scan.Inc()
		s.serveScan(ctx, w, req)
		return
	}
	s.m.countRequest(req)
	m := s.meta.current()
	if !m.Initialized() {
		s.unavailable(w, "cluster not initialized yet")
		return
	}
	shardID := placement.ShardOf(req.key, len(m.Shards))
	s.route(ctx, w, req, shardID)
}

// route runs req on the shard's leader (here, or forwarded), retrying
// while the request has certainly not been executed, until ctx ends.
func (s *Service) route(ctx context.Context, w http.ResponseWriter, req *kvRequest, shardID int) {
	delay := 5 * time.Millisecond
	hint := ""
	buf := getBuf()
	defer putBuf(buf)
	for {
		g := s.group(shardID)
		var o outcome
		var err error
		if g != nil && (g.isLeader() || (req.stale && req.method == http.MethodGet)) {
			o, err = s.execute(ctx, g, req, (*buf)[:0])
			*buf = o.value[:0]
		} else if target := s.leaderRaft(shardID, hint); target == "" {
			err = errNotLeader
		} else {
			hint, err = s.forward(ctx, target, req, shardID, &o)
		}
		if err == nil {
			writeOutcome(w, &o)
			return
		}
		if !errors.Is(err, errNotLeader) {
			s.writeErr(w, err)
			return
		}
		select {
		case <-ctx.Done():
			s.unavailable(w, fmt.Sprintf("shard %d has no reachable leader (no quorum?) within %v", shardID, s.cfg.RequestTimeout))
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

func (s *Service) group(id int) *shard {
	table := *s.table.Load()
	if id < len(table) {
		return table[id]
	}
	return nil
}

// leaderNode is the node to send shard's requests to: the one named by
// hint, else the leader if known, else (no local replica) some replica
// that will know it; nil when there is none (wait for an election) or the
// leader is this node.
func (s *Service) leaderNode(shardID int, hint string) *placement.Node {
	m := s.meta.current()
	name := hint
	if name == "" {
		name = s.shardLeader(shardID)
	}
	if name == s.name {
		return nil
	}
	if n, ok := m.Nodes[name]; ok && name != "" {
		return n
	}
	if s.group(shardID) != nil || shardID >= len(m.Shards) {
		return nil // a local replica without a leader: wait for the election
	}
	for _, r := range m.Shards[shardID].Replicas {
		if r != s.name && s.alive(r) {
			return m.Nodes[r]
		}
	}
	return nil
}

// leaderRaft is leaderNode's Raft (mux) address, or "".
func (s *Service) leaderRaft(shardID int, hint string) string {
	if n := s.leaderNode(shardID, hint); n != nil {
		return n.Raft
	}
	return ""
}

// leaderAPI is leaderNode's API address, or "".
func (s *Service) leaderAPI(shardID int, hint string) string {
	if n := s.leaderNode(shardID, hint); n != nil {
		return n.API
	}
	return ""
}

// outcome is the result of a KV request executed on a shard's replica.
type outcome struct {
	kind    byte   // outValue, outNotFound, outWritten or outFailed
	rev     uint64 // the value's or the write's revision; the current one for outFailed
	deleted bool   // outDeleted: the key was removed
	value   []byte // outValue
}

// Outcome kinds (also the first byte of a forwarded reply).
const (
	outValue    = 1
	outNotFound = 2
	outWritten  = 3
	outFailed   = 4 // compare-and-set precondition failed
	outDeleted  = 5 // a delete ran; deleted says whether it removed the key
)

// execute runs req against the local replica g; a value read is appended
// to buf. errNotLeader means it was not executed.
func (s *Service) execute(ctx context.Context, g *shard, req *kvRequest, buf []byte) (outcome, error) {
	switch req.method {
	case http.MethodGet:
		if !req.stale {
			if err := g.linearizable(ctx); err != nil {
				if ctx.Err() != nil {
					return outcome{}, errNotLeader // the loop answers 503 when ctx is done
				}
				return outcome{}, err
			}
		}
		v, rev, found, err := g.fsm.Get(req.key, buf)
		if err != nil {
			return outcome{}, err
		}
		if !found {
			return outcome{kind: outNotFound, value: v}, nil
		}
		return outcome{kind: outValue, rev: rev, value: v}, nil
	case http.MethodPut, http.MethodDelete:
		cmd := fsm.Command{Op: fsm.OpPut, Key: req.key, Value: req.value, HasPrev: req.hasPrev, Prev: req.prev, TTL: req.ttl.Milliseconds()}
		if req.method == http.MethodDelete {
			cmd = fsm.Command{Op: fsm.OpDelete, Key: req.key, HasPrev: req.hasPrev, Prev: req.prev}
		}
		res, err := g.propose(cmd)
		if err != nil {
			return outcome{}, err
		}
		if res.Failed {
			return outcome{kind: outFailed, rev: res.Current, value: buf}, nil
		}
		if req.method == http.MethodDelete {
			return outcome{kind: outDeleted, rev: res.Revision, deleted: res.Deleted, value: buf}, nil
		}
		return outcome{kind: outWritten, rev: res.Revision, value: buf}, nil
	}
	return outcome{}, badRequest("method not allowed")
}

// writeOutcome writes o as the HTTP reply.
func writeOutcome(w http.ResponseWriter, o *outcome) {
	switch o.kind {
	case outValue:
		h := w.Header()
		h["Content-Type"] = []string{"application/octet-stream"}
		h[hdrRevision] = []string{strconv.FormatUint(o.rev, 10)}
		h["Content-Length"] = []string{strconv.Itoa(len(o.value))}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(o.value)
	case outNotFound:
		admin.WriteError(w, http.StatusNotFound, "key not found")
	case outFailed:
		writeJSONLine(w, http.StatusPreconditionFailed, `{"error":"revision mismatch","revision":`+strconv.FormatUint(o.rev, 10)+`}`)
	case outDeleted:
		writeJSONLine(w, http.StatusOK, `{"revision":`+strconv.FormatUint(o.rev, 10)+`,"deleted":`+strconv.FormatBool(o.deleted)+`}`)
	default:
		writeJSONLine(w, http.StatusOK, `{"revision":`+strconv.FormatUint(o.rev, 10)+`}`)
	}
}

func writeJSONLine(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body) + 1)}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body+"\n")
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

func (s *Service) unavailable(w http.ResponseWriter, msg string) {
	s.m.unavailable.Inc()
	w.Header().Set("Retry-After", "1")
	admin.WriteError(w, http.StatusServiceUnavailable, msg)
}

// writeErr maps an error to its reply.
func (s *Service) writeErr(w http.ResponseWriter, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusServiceUnavailable:
		s.unavailable(w, ae.msg) // the leader's 503, relayed
	case errors.As(err, &ae):
		admin.WriteError(w, ae.status, ae.msg)
	case errors.Is(err, errUnknown), errors.Is(err, errNotLeader), errors.Is(err, context.DeadlineExceeded):
		s.unavailable(w, err.Error())
	default:
		s.unavailable(w, "internal error: "+err.Error())
	}
}

// scanItem is one key of a scan reply.
type scanItem struct {
	Key      string `json:"key"`
	Value    []byte `json:"value"`
	Revision uint64 `json:"revision"`
}

type scanReply struct {
	Items []scanItem `json:"items"`
	More  bool       `json:"more"`
}

// serveScan scans every shard (concurrently, each on its leader or
// replica) and merges the results in key order.
func (s *Service) serveScan(ctx context.Context, w http.ResponseWriter, req *kvRequest) {
	m := s.meta.current()
	if !m.Initialized() {
		s.unavailable(w, "cluster not initialized yet")
		return
	}
	replies := make([]scanReply, len(m.Shards))
	errs := make([]error, len(m.Shards))
	var wg sync.WaitGroup
	for id := range m.Shards {
		wg.Go(func() { replies[id], errs[id] = s.scanShard(ctx, id, req) })
	}
	wg.Wait()
	var all []scanItem
	more := false
	for id := range replies {
		if errs[id] != nil {
			s.writeErr(w, errs[id])
			return
		}
		all = append(all, replies[id].Items...)
		more = more || replies[id].More
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Key < all[j].Key })
	if len(all) > req.limit {
		all, more = all[:req.limit], true
	}
	if all == nil {
		all = []scanItem{}
	}
	admin.WriteJSON(w, http.StatusOK, scanReply{Items: all, More: more})
}

// scanShard scans one shard, locally when this node leads it (or holds a
// replica, for stale scans), else on the leader through the internal route.
func (s *Service) scanShard(ctx context.Context, id int, req *kvRequest) (scanReply, error) {
	delay := 5 * time.Millisecond
	hint := ""
	for {
		g := s.group(id)
		var err error
		if g != nil && (g.isLeader() || req.stale) {
			var rep scanReply
			if rep, err = s.scanLocal(ctx, g, req); err == nil {
				return rep, nil
			}
		} else if target := s.leaderAPI(id, hint); target == "" {
			err = errNotLeader
		} else {
			var rep scanReply
			if rep, hint, err = s.scanRemote(ctx, target, id, req); err == nil {
				return rep, nil
			}
		}
		if !errors.Is(err, errNotLeader) {
			return scanReply{}, err
		}
		select {
		case <-ctx.Done():
			return scanReply{}, fmt.Errorf("%w: shard %d has no reachable leader", errNotLeader, id)
		case <-time.After(delay):
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

func (s *Service) scanLocal(ctx context.Context, g *shard, req *kvRequest) (scanReply, error) {
	if !req.stale {
		if err := g.linearizable(ctx); err != nil {
			return scanReply{}, errNotLeader
		}
	}
	items, more, err := g.fsm.Scan(req.scanPrefix, req.startAfter, req.limit)
	if err != nil {
		return scanReply{}, err
	}
	rep := scanReply{Items: make([]scanItem, len(items)), More: more}
	for i, it := range items {
		rep.Items[i] = scanItem{Key: string(it.Key), Value: it.Value, Revision: it.Revision}
	}
	return rep, nil
}

func (s *Service) scanRemote(ctx context.Context, target string, id int, req *kvRequest) (scanReply, string, error) {
	q := url.Values{}
	q.Set("shard", strconv.Itoa(id))
	q.Set("prefix", string(req.scanPrefix))
	q.Set("start_after", string(req.startAfter))
	q.Set("limit", strconv.Itoa(req.limit))
	if req.stale {
		q.Set("consistency", "stale")
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+target+scanPath+"?"+q.Encode(), nil)
	if err != nil {
		return scanReply{}, "", err
	}
	hr.Header.Set(hdrForwarded, s.name)
	resp, err := s.fwd.Do(hr)
	if err != nil {
		return scanReply{}, "", errNotLeader
	}
	defer resp.Body.Close()
	if resp.StatusCode == statusNotLeader {
		return scanReply{}, resp.Header.Get(hdrLeaderHint), errNotLeader
	}
	if resp.StatusCode != http.StatusOK {
		return scanReply{}, "", errNotLeader
	}
	var rep scanReply
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return scanReply{}, "", errNotLeader
	}
	return rep, "", nil
}

// serveShardScan is the internal route one node uses to scan a shard on
// another.
func (s *Service) serveShardScan(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, err := strconv.Atoi(q.Get("shard"))
	g := s.group(id)
	if err != nil || g == nil {
		w.Header().Set(hdrLeaderHint, "")
		admin.WriteError(w, statusNotLeader, "no replica of that shard here")
		return
	}
	q.Del("shard")
	req, perr := parseKV(http.MethodGet, "", q.Encode(), nil)
	if perr != nil {
		s.writeErr(w, perr)
		return
	}
	if !g.isLeader() && !req.stale {
		w.Header().Set(hdrLeaderHint, s.leaderAPI(id, ""))
		admin.WriteError(w, statusNotLeader, "not the leader")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	rep, err := s.scanLocal(ctx, g, req)
	if err != nil {
		w.Header().Set(hdrLeaderHint, s.leaderAPI(id, ""))
		admin.WriteError(w, statusNotLeader, err.Error())
		return
	}
	admin.WriteJSON(w, http.StatusOK, rep)
}
