// Package client is a Go client for kvd's KV API (CONTRACT.md, "kvd"). It
// keeps pooled keep-alive connections to every node it is given and
// spreads requests over them; any node serves any key.
//
// Retries only where safe: reads and scans are retried on another node
// after any failure; a write is retried only when it certainly never
// reached a node (the connection could not be made). A write whose outcome
// is unknown (timeout, cut connection, 503) returns an error that
// IsUnknown reports, and the caller decides.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// Client talks to a kvd cluster. It is safe for concurrent use.
type Client struct {
	endpoints []string
	hc        *http.Client
	next      atomic.Uint32
	retries   int
}

// Option configures New.
type Option func(*Client)

// WithTimeout bounds every HTTP exchange (default 10s; a context deadline
// also applies).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.hc.Timeout = d } }

// WithRetries sets how many other nodes a safe request tries after a
// failure (default: every node once more).
func WithRetries(n int) Option { return func(c *Client) { c.retries = n } }

// New returns a client for the given node addresses (host:port or
// http://host:port).
func New(endpoints []string, opts ...Option) (*Client, error) {
	c := &Client{}
	for _, e := range endpoints {
		u := e
		if len(u) > 7 && u[:7] == "http://" {
			u = u[7:]
		}
		for len(u) > 0 && u[len(u)-1] == '/' {
			u = u[:len(u)-1]
		}
		if _, _, err := net.SplitHostPort(u); err != nil {
			return nil, fmt.Errorf("kvd client: endpoint %q: %w", e, err)
		}
		c.endpoints = append(c.endpoints, u)
	}
	if len(c.endpoints) == 0 {
		return nil, errors.New("kvd client: no endpoints")
	}
	c.retries = len(c.endpoints)
	c.hc = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Error is a reply other than success.
type Error struct {
	Status   int    // HTTP status (0: no reply)
	Message  string // the server's {"error"} or the transport error
	Revision uint64 // 412: the key's current revision (0 when absent)
	unknown  bool   // a write that may or may not have happened
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return "kvd: " + e.Message
	}
	return fmt.Sprintf("kvd: HTTP %d: %s", e.Status, e.Message)
}

// ErrNotFound is returned by Get for an absent key.
var ErrNotFound = errors.New("kvd: key not found")

// IsPreconditionFailed reports a compare-and-set that did not match; the
// key's current revision is in the *Error.
func IsPreconditionFailed(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusPreconditionFailed
}

// IsUnknown reports a write whose outcome is unknown.
func IsUnknown(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.unknown
}

// Item is a key with its value and revision.
type Item struct {
	Key      string `json:"key"`
	Value    []byte `json:"value"`
	Revision uint64 `json:"revision"`
}

// reply is one HTTP exchange's result.
type reply struct {
	status int
	body   []byte
	header http.Header
}

// do sends the request to the next node; safe requests move on to other
// nodes after any failure, writes only after a failed dial.
func (c *Client) do(ctx context.Context, method, pathAndQuery string, body []byte, safe bool) (reply, error) {
	var lastErr error
	start := int(c.next.Add(1))
	for attempt := 0; attempt <= c.retries; attempt++ {
		ep := c.endpoints[(start+attempt)%len(c.endpoints)]
		var rb io.Reader
		if body != nil {
			rb = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, "http://"+ep+pathAndQuery, rb)
		if err != nil {
			return reply{}, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			var op *net.OpError
			neverSent := errors.As(err, &op) && op.Op == "dial"
			lastErr = &Error{Message: err.Error(), unknown: !safe && !neverSent}
			if ctx.Err() != nil || (!safe && !neverSent) {
				return reply{}, lastErr
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 2<<20))
		resp.Body.Close()
		if err != nil {
			lastErr = &Error{Status: resp.StatusCode, Message: "reading the reply: " + err.Error(), unknown: !safe}
			if !safe {
				return reply{}, lastErr
			}
			continue
		}
		if resp.StatusCode >= 500 {
			lastErr = replyError(resp.StatusCode, b, !safe)
			if !safe {
				return reply{}, lastErr
			}
			if resp.StatusCode == http.StatusServiceUnavailable {
				select {
				case <-ctx.Done():
					return reply{}, lastErr
				case <-time.After(100 * time.Millisecond):
				}
			}
			continue
		}
		return reply{status: resp.StatusCode, body: b, header: resp.Header}, nil
	}
	return reply{}, lastErr
}

func replyError(status int, body []byte, unknown bool) *Error {
	var e struct {
		Error    string  `json:"error"`
		Revision *uint64 `json:"revision"`
	}
	_ = json.Unmarshal(body, &e)
	out := &Error{Status: status, Message: e.Error, unknown: unknown}
	if out.Message == "" {
		out.Message = string(bytes.TrimSpace(body))
	}
	if e.Revision != nil {
		out.Revision = *e.Revision
	}
	return out
}

// GetOption changes a read.
type GetOption func(q url.Values)

// Stale reads from whichever replica answers (may be behind).
func Stale() GetOption { return func(q url.Values) { q.Set("consistency", "stale") } }

// Get reads key (linearizable unless Stale).
func (c *Client) Get(ctx context.Context, key string, opts ...GetOption) (Item, error) {
	q := url.Values{}
	for _, o := range opts {
		o(q)
	}
	path := "/v1/kv/" + url.PathEscape(key)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	r, err := c.do(ctx, http.MethodGet, path, nil, true)
	if err != nil {
		return Item{}, err
	}
	switch r.status {
	case http.StatusOK:
		rev, err := strconv.ParseUint(r.header.Get("Kv-Revision"), 10, 64)
		if err != nil {
			return Item{}, &Error{Status: r.status, Message: "reply without a Kv-Revision"}
		}
		return Item{Key: key, Value: r.body, Revision: rev}, nil
	case http.StatusNotFound:
		return Item{}, ErrNotFound
	}
	return Item{}, replyError(r.status, r.body, false)
}

// WriteOption changes a put or delete.
type WriteOption func(q url.Values)

// IfRevision makes the write conditional: only if the key is at revision
// rev (0: only if absent).
func IfRevision(rev uint64) WriteOption {
	return func(q url.Values) { q.Set("prev_revision", strconv.FormatUint(rev, 10)) }
}

// TTL makes a put expire after d.
func TTL(d time.Duration) WriteOption { return func(q url.Values) { q.Set("ttl", d.String()) } }

func writePath(key string, opts []WriteOption) string {
	q := url.Values{}
	for _, o := range opts {
		o(q)
	}
	p := "/v1/kv/" + url.PathEscape(key)
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// Put writes value and returns its revision.
func (c *Client) Put(ctx context.Context, key string, value []byte, opts ...WriteOption) (uint64, error) {
	if value == nil {
		value = []byte{}
	}
	r, err := c.do(ctx, http.MethodPut, writePath(key, opts), value, false)
	if err != nil {
		return 0, err
	}
	if r.status != http.StatusOK {
		return 0, replyError(r.status, r.body, false)
	}
	var v struct {
		Revision uint64 `json:"revision"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		return 0, &Error{Status: r.status, Message: "bad reply: " + err.Error()}
	}
	return v.Revision, nil
}

// Delete removes key; deleted is false when it was absent.
func (c *Client) Delete(ctx context.Context, key string, opts ...WriteOption) (rev uint64, deleted bool, err error) {
	r, err := c.do(ctx, http.MethodDelete, writePath(key, opts), nil, false)
	if err != nil {
		return 0, false, err
	}
	if r.status != http.StatusOK {
		return 0, false, replyError(r.status, r.body, false)
	}
	var v struct {
		Revision uint64 `json:"revision"`
		Deleted  bool   `json:"deleted"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		return 0, false, &Error{Status: r.status, Message: "bad reply: " + err.Error()}
	}
	return v.Revision, v.Deleted, nil
}

// ScanOptions select a scan's range.
type ScanOptions struct {
	Prefix     string
	StartAfter string
	Limit      int  // 0: the server's default
	Stale      bool // read replicas instead of leaders
}

// Scan returns keys in order and whether more follow (continue with
// StartAfter set to the last key).
func (c *Client) Scan(ctx context.Context, o ScanOptions) ([]Item, bool, error) {
	q := url.Values{}
	if o.Prefix != "" {
		q.Set("prefix", o.Prefix)
	}
	if o.StartAfter != "" {
		q.Set("start_after", o.StartAfter)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Stale {
		q.Set("consistency", "stale")
	}
	path := "/v1/kv/"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	r, err := c.do(ctx, http.MethodGet, path, nil, true)
	if err != nil {
		return nil, false, err
	}
	if r.status != http.StatusOK {
		return nil, false, replyError(r.status, r.body, false)
	}
	var v struct {
		Items []Item `json:"items"`
		More  bool   `json:"more"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		return nil, false, &Error{Status: r.status, Message: "bad reply: " + err.Error()}
	}
	return v.Items, v.More, nil
}

// Cluster returns GET /v1/cluster as raw JSON.
func (c *Client) Cluster(ctx context.Context) (json.RawMessage, error) {
	r, err := c.do(ctx, http.MethodGet, "/v1/cluster", nil, true)
	if err != nil {
		return nil, err
	}
	if r.status != http.StatusOK {
		return nil, replyError(r.status, r.body, false)
	}
	return json.RawMessage(r.body), nil
}
