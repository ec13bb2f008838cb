package cached_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/anvilstack/anvil/cached"
	"github.com/anvilstack/anvil/pkg/resp"
)

// With one event loop, a client that has to wait leaves the loop: a
// blocked BLPOP, and a client that does not read its big replies, never
// hold up the other clients of the loop, and each gets everything it is
// owed.
func TestEventLoopClientsThatWait(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("event loops need epoll")
	}
	_, addr := startCached(t, func(c *cached.Config) { c.EventLoops = 1 })
	fast := dialRaw(t, addr)
	if got := fast.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}

	// A blocked client leaves the loop; the others go on.
	blocked := dialRaw(t, addr)
	blocked.send(resp.AppendCommandString(nil, "BLPOP", "q", "0"))
	waitFor(t, func() bool { return strings.Contains(fast.do("CLIENT", "LIST"), "cmd=blpop") })
	for i := range 100 {
		if got := fast.do("INCR", "n"); got != fmt.Sprintf(":%d\r\n", i+1) {
			t.Fatalf("INCR = %q", got)
		}
	}
	if got := fast.do("RPUSH", "q", "v"); got != ":1\r\n" {
		t.Fatalf("RPUSH = %q", got)
	}
	if got := blocked.read(); got != "*2\r\n$1\r\nq\r\n$1\r\nv\r\n" {
		t.Fatalf("BLPOP = %q", got)
	}
	// It is served as before once it has left the loop.
	if got := blocked.do("GET", "n"); got != "$3\r\n100\r\n" {
		t.Fatalf("GET after BLPOP = %q", got)
	}

	// A client that does not read: its replies outgrow the socket
	// buffers, which must not stall the loop.
	big := strings.Repeat("x", 1<<20)
	if got := fast.do("SET", "big", big); got != "+OK\r\n" {
		t.Fatalf("SET big = %q", got)
	}
	slow := dialRaw(t, addr)
	const gets = 32 // 32 MB of replies
	var req []byte
	for range gets {
		req = resp.AppendCommandString(req, "GET", "big")
	}
	slow.send(req)
	start := time.Now()
	for range 100 {
		if got := fast.do("PING"); got != "+PONG\r\n" {
			t.Fatalf("PING = %q", got)
		}
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("100 PINGs took %v while another client did not read", d)
	}
	want := fmt.Sprintf("$%d\r\n%s\r\n", len(big), big)
	for i := range gets {
		if got := slow.read(); got != want {
			t.Fatalf("GET %d: %d bytes, want %d", i, len(got), len(want))
		}
	}
	if got := slow.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING after the big replies = %q", got)
	}
}

// Clients are spread over the loops and each is served with its own
// state (SELECT, pipelines), while CLIENT KILL reaches a client of
// another loop.
func TestEventLoopsManyClients(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("event loops need epoll")
	}
	_, addr := startCached(t, func(c *cached.Config) { c.EventLoops = 3 })
	conns := make([]*rawConn, 9)
	for i := range conns {
		conns[i] = dialRaw(t, addr)
		if got := conns[i].do("SELECT", fmt.Sprint(i)); got != "+OK\r\n" {
			t.Fatalf("SELECT = %q", got)
		}
	}
	for round := range 3 {
		for i, c := range conns {
			var req []byte
			for j := range 50 {
				req = resp.AppendCommandString(req, "SET", fmt.Sprint("k", j), fmt.Sprint(i, "-", round))
			}
			req = resp.AppendCommandString(req, "GET", "k49")
			c.send(req)
		}
		for i, c := range conns {
			for range 50 {
				if got := c.read(); got != "+OK\r\n" {
					t.Fatalf("SET = %q", got)
				}
			}
			v := fmt.Sprint(i, "-", round)
			if got := c.read(); got != fmt.Sprintf("$%d\r\n%s\r\n", len(v), v) {
				t.Fatalf("client %d GET = %q", i, got)
			}
		}
	}
	id := strings.TrimSuffix(strings.TrimPrefix(conns[4].do("CLIENT", "ID"), ":"), "\r\n")
	if got := conns[0].do("CLIENT", "KILL", "ID", id); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL = %q", got)
	}
	if out, closed := conns[4].readAll(); !closed || out != "" {
		t.Fatalf("killed client: closed=%v, read %q", closed, out)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// With event_loop_poll off and at its longest, pipelined requests and
// requests with gaps shorter and longer than the poll are all answered;
// values outside 0..1ms are refused with the key's name. (How long the
// loop polls is not asserted: that is timing.)
func TestEventLoopPoll(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("event loops need epoll")
	}
	for _, poll := range []time.Duration{0, time.Millisecond} {
		t.Run(fmt.Sprint("poll=", poll), func(t *testing.T) {
			_, addr := startCached(t, func(c *cached.Config) { c.EventLoops = 1; c.EventLoopPoll = poll })
			c := dialRaw(t, addr)
			var req []byte
			for j := range 20 {
				req = resp.AppendCommandString(req, "SET", fmt.Sprint("k", j), fmt.Sprint("v", j))
			}
			c.send(req)
			for range 20 {
				if got := c.read(); got != "+OK\r\n" {
					t.Fatalf("SET = %q", got)
				}
			}
			for j := range 20 {
				time.Sleep(time.Duration(j%3) * time.Millisecond) // gaps shorter and longer than the poll
				want := fmt.Sprint("v", j)
				if got := c.do("GET", fmt.Sprint("k", j)); got != fmt.Sprintf("$%d\r\n%s\r\n", len(want), want) {
					t.Fatalf("GET k%d = %q", j, got)
				}
			}
		})
	}
	for _, bad := range []time.Duration{-time.Microsecond, 2 * time.Millisecond} {
		cfg := cached.DefaultConfig()
		cfg.EventLoopPoll = bad
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "event_loop_poll") {
			t.Errorf("event_loop_poll %s: Validate() = %v, want an error naming event_loop_poll", bad, err)
		}
	}
	def := cached.DefaultConfig()
	if err := def.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}
