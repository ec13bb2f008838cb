package cached_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/anvilstack/anvil/cached"
	"github.com/anvilstack/anvil/pkg/daemon"
	"github.com/anvilstack/anvil/pkg/daemontest"
	"github.com/anvilstack/anvil/pkg/resp"
)

// startCached starts cached on free loopback ports for the test, with cfg
// changed by mutate, and returns the daemon and its RESP address.
func startCached(t testing.TB, mutate func(*cached.Config)) (*daemon.Daemon, string) {
	t.Helper()
	spec := cached.Spec()
	cfg := testConfig(t, spec)
	if mutate != nil {
		mutate(&cfg)
	}
	d := daemontest.Start(t, spec, cfg)
	return d, d.Endpoint("resp")
}

// testConfig is daemontest.Config with event_loops from
// ANVIL_CACHED_EVENT_LOOPS when set (see loops_test.go).
var testConfig = cached.TestConfig

// newClient returns a go-redis client for addr speaking protocol proto.
func newClient(t testing.TB, addr string, proto int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto, DisableIdentity: true, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rawConn is a RESP connection that sends commands and reads replies as
// exact bytes.
type rawConn struct {
	t    testing.TB
	conn net.Conn
	r    *resp.Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &rawConn{t: t, conn: conn, r: resp.NewReader(conn)}
}

// do sends args as a multibulk request and returns the raw reply.
func (c *rawConn) do(args ...string) string {
	c.t.Helper()
	c.send(resp.AppendCommandString(nil, args...))
	return c.read()
}

func (c *rawConn) send(b []byte) {
	c.t.Helper()
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *rawConn) read() string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	raw, err := c.r.ReadRaw(nil)
	if err != nil {
		c.t.Fatalf("read reply: %v", err)
	}
	return string(raw)
}

// readAll reads until the server closes the connection (or 2 s pass).
func (c *rawConn) readAll() (string, bool) {
	_ = c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	var out bytes.Buffer
	_, err := out.ReadFrom(bufio.NewReader(c.conn))
	closed := err == nil
	return out.String(), closed
}

// splitWords splits a script line into arguments like redis-cli does.
func splitWords(t testing.TB, line string) []string {
	t.Helper()
	var p resp.Parser
	if err := p.Feed([]byte(line + "\r\n")); err != nil {
		t.Fatal(err)
	}
	args, err := p.Next()
	if err != nil {
		t.Fatalf("script line %q: %v", line, err)
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

var ctx = context.Background()

func quote(s string) string { return strings.ReplaceAll(s, "\r\n", `\r\n`) }
