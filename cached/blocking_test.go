package cached

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/pkg/daemon"
	"github.com/anvilstack/anvil/pkg/daemontest"
	"github.com/anvilstack/anvil/pkg/resp"
)

// A minimal blocking family for testing the core's blocking support:
// TPUSH key value stores a string and signals the key; TBPOP key timeout
// returns and deletes it, blocking while it is missing.
func testBlockingFamily() []*Command {
	return []*Command{
		{Name: "tpush", Arity: 3, Flags: FlagWrite, First: 1, Last: 1, Step: 1, Handler: func(c *Client, args [][]byte) {
			c.DB().Set(args[1], args[2], c.Now(), store.SetOptions{})
			c.SignalReady(args[1])
			c.ReplyOK()
		}},
		{Name: "tbpop", Arity: 3, Flags: FlagWrite | FlagBlocking, First: 1, Last: 1, Step: 1, Handler: func(c *Client, args [][]byte) {
			if e := c.LookupWrite(args[1]); e != nil {
				c.ReplyBulk(e.Str)
				c.DB().Unlink(e)
				return
			}
			secs, ok := ParseFloat(args[2])
			if !ok {
				c.ReplyError(ErrNotFloat)
				return
			}
			if c.InExec() {
				c.ReplyNullArray()
				return
			}
			c.Block(args[1:2], time.Duration(secs*float64(time.Second)), c.ReplyNullArray)
		}},
	}
}

func startWithFamily(t *testing.T) (*Server, string) {
	t.Helper()
	spec := Spec()
	cfg := testConfig(t, spec)
	s, err := New(cfg, daemon.Env{Name: "cached", Log: daemontest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	s.table = newTable(append(s.families(), testBlockingFamily())...)
	s.table.eachCommand(func(cmd *Command) {
		if cmd.stats == nil {
			cmd.stats = &cmdStats{}
		}
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return s, s.Addr()
}

type tconn struct {
	t    *testing.T
	conn net.Conn
	r    *resp.Reader
}

func dial(t *testing.T, addr string) *tconn {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &tconn{t, conn, resp.NewReader(conn)}
}

func (c *tconn) send(args ...string) {
	if _, err := c.conn.Write(resp.AppendCommandString(nil, args...)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *tconn) read(within time.Duration) (string, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(within))
	b, err := c.r.ReadRaw(nil)
	return string(b), err
}

func waitBlocked(t *testing.T, s *Server, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.BlockedOn(0, []byte(key)) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d clients blocked on %s, want %d", s.BlockedOn(0, []byte(key)), key, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBlockingWakeAndTimeout(t *testing.T) {
	s, addr := startWithFamily(t)
	a, b, p := dial(t, addr), dial(t, addr), dial(t, addr)

	// Two clients wait; one push serves exactly one of them.
	a.send("TBPOP", "q", "0")
	waitBlocked(t, s, "q", 1)
	b.send("TBPOP", "q", "0")
	waitBlocked(t, s, "q", 2)
	if got := s.BlockedClients().Load(); got != 2 {
		t.Fatalf("blocked_clients = %d", got)
	}
	p.send("TPUSH", "q", "one")
	if r, _ := p.read(time.Second); r != "+OK\r\n" {
		t.Fatalf("TPUSH: %q", r)
	}
	first, err := a.read(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if first != "$3\r\none\r\n" {
		t.Fatalf("first waiter got %q", first)
	}
	waitBlocked(t, s, "q", 1) // the other went back to waiting
	p.send("TPUSH", "q", "two")
	p.read(time.Second)
	if r, _ := b.read(5 * time.Second); r != "$3\r\ntwo\r\n" {
		t.Fatalf("second waiter got %q", r)
	}

	// A timeout replies the command's timeout reply, after the timeout.
	start := time.Now()
	a.send("TBPOP", "empty", "0.2")
	if r, _ := a.read(5 * time.Second); r != "*-1\r\n" {
		t.Fatalf("timeout reply %q", r)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("timed out after %v", d)
	}
	if s.BlockedOn(0, []byte("empty")) != 0 || s.BlockedClients().Load() != 0 {
		t.Fatal("waiter left registered after its timeout")
	}

	// Inside EXEC a blocking command does not block.
	a.send("MULTI")
	a.read(time.Second)
	a.send("TBPOP", "empty", "0")
	a.read(time.Second)
	a.send("EXEC")
	if r, _ := a.read(time.Second); r != "*1\r\n*-1\r\n" {
		t.Fatalf("EXEC with a blocking pop: %q", r)
	}

	// CLIENT UNBLOCK ends a wait as a timeout or as an error.
	b.send("CLIENT", "ID")
	bid, _ := b.read(time.Second)
	bid = bid[1 : len(bid)-2]
	b.send("TBPOP", "never", "0")
	waitBlocked(t, s, "never", 1)
	p.send("CLIENT", "UNBLOCK", bid)
	if r, _ := p.read(time.Second); r != ":1\r\n" {
		t.Fatalf("CLIENT UNBLOCK: %q", r)
	}
	if r, _ := b.read(5 * time.Second); r != "*-1\r\n" {
		t.Fatalf("unblocked as timeout: %q", r)
	}
	b.send("TBPOP", "never", "0")
	waitBlocked(t, s, "never", 1)
	p.send("CLIENT", "UNBLOCK", bid, "ERROR")
	p.read(time.Second)
	if r, _ := b.read(5 * time.Second); r != "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n" {
		t.Fatalf("unblocked as error: %q", r)
	}
	p.send("CLIENT", "UNBLOCK", bid)
	if r, _ := p.read(time.Second); r != ":0\r\n" {
		t.Fatalf("CLIENT UNBLOCK of a client not blocked: %q", r)
	}
	waitBlocked(t, s, "never", 0)

	// CLIENT KILL wakes and disconnects a blocked client.
	b.send("CLIENT", "ID")
	id, _ := b.read(time.Second)
	b.send("TBPOP", "never", "0")
	waitBlocked(t, s, "never", 1)
	p.send("CLIENT", "KILL", "ID", id[1:len(id)-2])
	if r, _ := p.read(time.Second); r != ":1\r\n" {
		t.Fatalf("CLIENT KILL: %q", r)
	}
	if _, err := b.read(5 * time.Second); err == nil {
		t.Fatal("killed blocked client got a reply")
	}
	waitBlocked(t, s, "never", 0)
}
