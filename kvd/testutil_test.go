package kvd

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// kvc is a minimal raw HTTP client for the tests in this package (the
// client package is tested on its own).
type kvc struct {
	t    testing.TB
	hc   *http.Client
	addr string
}

func newKVC(t testing.TB, addr string) *kvc {
	return &kvc{t: t, hc: &http.Client{Timeout: 15 * time.Second}, addr: addr}
}

type reply struct {
	status int
	body   []byte
	hdr    http.Header
}

func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("reply %d %q is not JSON: %v", r.status, r.body, err)
	}
	return m
}

func (r reply) revision(t testing.TB) uint64 {
	t.Helper()
	if h := r.hdr.Get("Kv-Revision"); h != "" {
		n, _ := strconv.ParseUint(h, 10, 64)
		return n
	}
	v, _ := r.json(t)["revision"].(float64)
	return uint64(v)
}

func (c *kvc) do(method, path string, body []byte) reply {
	c.t.Helper()
	req, err := http.NewRequest(method, "http://"+c.addr+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: b, hdr: resp.Header}
}

func keyPath(key string) string { return "/v1/kv/" + url.PathEscape(key) }

func (c *kvc) put(key, value string, query string) reply {
	c.t.Helper()
	return c.do("PUT", keyPath(key)+query, []byte(value))
}

func (c *kvc) get(key, query string) reply {
	c.t.Helper()
	return c.do("GET", keyPath(key)+query, nil)
}

func (c *kvc) del(key, query string) reply {
	c.t.Helper()
	return c.do("DELETE", keyPath(key)+query, nil)
}

func poll(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tryPut is put that reports a transport error as status 0.
func (c *kvc) tryPut(key, value string) reply {
	req, _ := http.NewRequest("PUT", "http://"+c.addr+keyPath(key), bytes.NewReader([]byte(value)))
	resp, err := c.hc.Do(req)
	if err != nil {
		return reply{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: b, hdr: resp.Header}
}

// mustPut writes key, retrying 503s (a leader change during setup writes
// is not what such a test is about), and returns the revision.
func (c *kvc) mustPut(key, value string) uint64 {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := c.tryPut(key, value)
		if r.status == 200 {
			return r.revision(c.t)
		}
		if (r.status != 0 && r.status != 503) || time.Now().After(deadline) {
			c.t.Fatalf("put %s: %d %s", key, r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
