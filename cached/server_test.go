package cached_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anvilstack/anvil/cached"
	"github.com/anvilstack/anvil/pkg/resp"
)

func TestAuth(t *testing.T) {
	_, addr := startCached(t, func(c *cached.Config) { c.RequirePass = "s3cret" })
	c := dialRaw(t, addr)
	eq(t, "GET before AUTH", c.do("GET", "k"), "-NOAUTH Authentication required.\r\n")
	eq(t, "bad password", c.do("AUTH", "nope"), "-WRONGPASS invalid username-password pair or user is disabled.\r\n")
	eq(t, "HELLO without auth", strings.HasPrefix(c.do("HELLO", "3"), "-NOAUTH HELLO must be called"), true)
	eq(t, "AUTH", c.do("AUTH", "s3cret"), "+OK\r\n")
	eq(t, "GET after AUTH", c.do("GET", "k"), "$-1\r\n")
	eq(t, "AUTH default user", c.do("AUTH", "default", "s3cret"), "+OK\r\n")

	// HELLO AUTH authenticates and switches protocol at once.
	c2 := dialRaw(t, addr)
	if r := c2.do("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "x"); !strings.HasPrefix(r, "%7\r\n") {
		t.Fatalf("HELLO 3 AUTH: %q", r)
	}
	eq(t, "RESP3 null", c2.do("GET", "k"), "_\r\n")

	// An unauthenticated client may not send big requests.
	c3 := dialRaw(t, addr)
	c3.send([]byte("*1\r\n$20000\r\n"))
	out, closed := c3.readAll()
	eq(t, "unauthenticated big bulk", out, "-ERR Protocol error: unauthenticated bulk length\r\n")
	eq(t, "closed after protocol error", closed, true)
	c4 := dialRaw(t, addr)
	c4.send([]byte("*11\r\n"))
	out, _ = c4.readAll()
	eq(t, "unauthenticated many args", out, "-ERR Protocol error: unauthenticated multibulk length\r\n")
}

func TestQueryBufferLimit(t *testing.T) {
	_, addr := startCached(t, func(c *cached.Config) { c.ClientQueryBufferLimit = 1 << 20 })
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Declare a 100 MB argument and keep sending: the server must cut the
	// client off once 1 MB is buffered, not buffer the whole thing.
	if _, err := conn.Write([]byte("*2\r\n$3\r\nSET\r\n$100000000\r\n")); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	sent := 0
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	for sent < 50<<20 {
		n, err := conn.Write(chunk)
		sent += n
		if err != nil {
			break
		}
	}
	if sent >= 50<<20 {
		t.Fatalf("server accepted %d bytes of a request over a 1 MB limit", sent)
	}
	// The server still serves others.
	c := dialRaw(t, addr)
	eq(t, "PING after a cut-off client", c.do("PING"), "+PONG\r\n")
}

func TestMaxClients(t *testing.T) {
	_, addr := startCached(t, func(c *cached.Config) { c.MaxClients = 2 })
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	eq(t, "first", a.do("PING"), "+PONG\r\n")
	eq(t, "second", b.do("PING"), "+PONG\r\n")
	c := dialRaw(t, addr)
	out, closed := c.readAll()
	eq(t, "third client", out, "-ERR max number of clients reached\r\n")
	eq(t, "third closed", closed, true)
}

func TestIdleTimeout(t *testing.T) {
	_, addr := startCached(t, func(c *cached.Config) { c.Timeout = time.Second })
	c := dialRaw(t, addr)
	eq(t, "PING", c.do("PING"), "+PONG\r\n")
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	_, err := c.conn.Read(make([]byte, 1))
	if err != io.EOF {
		t.Fatalf("idle client: read %v, want EOF", err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("closed after %v, before the 1s timeout", d)
	}
}

func TestClientKill(t *testing.T) {
	_, addr := startCached(t, nil)
	victim, killer := dialRaw(t, addr), dialRaw(t, addr)
	id := strings.TrimSuffix(strings.TrimPrefix(victim.do("CLIENT", "ID"), ":"), "\r\n")
	eq(t, "CLIENT KILL ID", killer.do("CLIENT", "KILL", "ID", id), ":1\r\n")
	if _, closed := victim.readAll(); !closed {
		t.Fatal("killed client still connected")
	}
	// Killing oneself closes after the reply.
	eq(t, "CLIENT KILL SKIPME no", killer.do("CLIENT", "KILL", "ADDR", killer.conn.LocalAddr().String(), "SKIPME", "no"), ":1\r\n")
	if _, closed := killer.readAll(); !closed {
		t.Fatal("self-killed client still connected")
	}
}

func TestRESP3Types(t *testing.T) {
	_, addr := startCached(t, nil)
	c := dialRaw(t, addr)
	c.do("HELLO", "3")
	eq(t, "CONFIG GET is a map", c.do("CONFIG", "GET", "maxmemory"), "%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n")
	eq(t, "null", c.do("GET", "nope"), "_\r\n")
	c.do("SET", "a", "x")
	c.do("SET", "b", "y")
	eq(t, "LCS IDX map", strings.HasPrefix(c.do("LCS", "a", "b", "IDX"), "%2\r\n"), true)
	if r := c.do("CLIENT", "INFO"); !strings.HasPrefix(r, "=") || !strings.Contains(r, "txt:id=") {
		t.Fatalf("CLIENT INFO in RESP3 is not verbatim text: %q", r)
	}
	c.do("HELLO", "2")
	eq(t, "back to RESP2", c.do("GET", "nope"), "$-1\r\n")
}

// SIGTERM's drain: a client's pipelined requests that were already read
// get their replies before the connection closes, and the listener stops.
func TestGracefulShutdown(t *testing.T) {
	d, addr := startCached(t, nil)
	c := dialRaw(t, addr)
	var req []byte
	for i := 0; i < 1000; i++ {
		req = resp.AppendCommandString(req, "INCR", "n")
	}
	c.send(req)
	for i := 1; i <= 10; i++ {
		c.read()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Shutdown(ctx) }()
	got := 10
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.r.ReadRaw(nil); err != nil {
			break
		}
		got++
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	eq(t, "replies before close", got, 1000)
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("listener still accepts after shutdown")
	}
}

func TestMetricsAndReady(t *testing.T) {
	d, addr := startCached(t, nil)
	c := dialRaw(t, addr)
	c.do("SET", "k", "v")
	c.do("GET", "k")
	c.do("GET", "missing")
	c.do("NOSUCH")
	c.do("INCR", "k")
	resp, err := http.Get("http://" + d.Endpoint("admin") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`anvil_cached_commands_total{command="get",result="ok"} 2`,
		`anvil_cached_commands_total{command="incr",result="error"} 1`,
		`anvil_cached_keyspace_hits_total 1`,
		`anvil_cached_keyspace_misses_total 1`,
		`anvil_cached_connected_clients 1`,
		`anvil_cached_keys{db="db0"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	r, err := http.Get("http://" + d.Endpoint("admin") + "/readyz?verbose")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(b), "resp_listener") {
		t.Fatalf("/readyz: %d %s", r.StatusCode, b)
	}
}

func TestMonitor(t *testing.T) {
	_, addr := startCached(t, nil)
	mon, c := dialRaw(t, addr), dialRaw(t, addr)
	eq(t, "MONITOR", mon.do("MONITOR"), "+OK\r\n")
	// Arguments are shown as sent (Redis does not lowercase them).
	c.do("set", "foo", "b\"a\nr")
	c.do("multi")
	c.do("get", "foo")
	c.do("exec")
	c.do("config", "get", "maxmemory") // admin: not shown
	c.do("auth", "secret")
	c.do("ping")
	want := []string{`"set" "foo" "b\"a\nr"`, `"multi"`, `"get" "foo"`, `"exec"`, `"auth" "(redacted)"`, `"ping"`}
	for _, w := range want {
		line := mon.read()
		if !strings.HasPrefix(line, "+") || !strings.Contains(line, "] "+w+"\r\n") || !strings.Contains(line, " [0 127.0.0.1:") {
			t.Fatalf("monitor line %q, want one ending in %s", line, w)
		}
	}
	if r := c.do("CLIENT", "LIST"); !strings.Contains(r, "flags=O") {
		t.Fatalf("CLIENT LIST shows no monitor: %q", r)
	}
}
