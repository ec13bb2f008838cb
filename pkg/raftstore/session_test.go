package raftstore

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/logging"
)

// conns records the TCP connections a dialer made, so a test can cut them.
type conns struct {
	mu sync.Mutex
	cs []net.Conn
}

func (c *conns) dial(ctx context.Context, addr string) (net.Conn, error) {
	conn, err := DefaultDialer(ctx, addr)
	if err == nil {
		c.mu.Lock()
		c.cs = append(c.cs, conn)
		c.mu.Unlock()
	}
	return conn, err
}

func (c *conns) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.cs {
		conn.Close()
	}
	c.cs = nil
}

// Streams of two groups share one connection, echo both ways, honour read
// deadlines, break when the connection dies, and a new dial recovers.
func TestSessionStreams(t *testing.T) {
	log := logging.Discard()
	server, err := Listen("127.0.0.1:0", nil, log)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	var cc conns
	client, err := Listen("127.0.0.1:0", cc.dial, log)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for _, g := range []uint32{1, 2} {
		l, err := server.Layer(g)
		if err != nil {
			t.Fatal(err)
		}
		go func() { // echo server, prefixing the group
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					buf := make([]byte, 64)
					for {
						n, err := c.Read(buf)
						if err != nil {
							return
						}
						if _, err := c.Write(append([]byte{byte('0' + g)}, buf[:n]...)); err != nil {
							return
						}
					}
				}()
			}
		}()
	}
	addr := server.Addr().String()
	dial := func(g uint32) net.Conn {
		l, err := client.Layer(g)
		if err != nil {
			t.Fatal(err)
		}
		c, err := l.Dial(ServerAddressOf(addr), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	echo := func(c net.Conn, msg, want string) {
		t.Helper()
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 64)
		n, err := io.ReadAtLeast(c, buf, len(want))
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("echo %q: %q %v", msg, buf[:n], err)
		}
	}
	a, b := dial(1), dial(2)
	echo(a, "hello", "1hello")
	echo(b, "world", "2world")
	cc.mu.Lock()
	if len(cc.cs) != 1 {
		t.Fatalf("%d connections for two streams, want 1", len(cc.cs))
	}
	cc.mu.Unlock()

	_ = a.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := a.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	cc.cut()
	_ = b.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := b.Read(make([]byte, 8)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read on a cut session: %v, want the session's error", err)
	}
	// the next dial makes a new session
	l3, err := client.Layer(3)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := l3.Dial(ServerAddressOf(addr), time.Second)
		if err == nil {
			defer c.Close()
			if _, err := c.Write([]byte("x")); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new session: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c := dial(4)
	defer c.Close()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}
