package cached

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/daemon"
	"github.com/anvilstack/anvil/pkg/daemontest"
	"github.com/anvilstack/anvil/pkg/resp"
)

// discardConn is a net.Conn whose writes vanish: it lets benchmarks and
// allocation tests run the whole command path (parse, dispatch, locks,
// handler, reply, flush) without a network.
type discardConn struct{ written int }

func (c *discardConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (c *discardConn) Write(b []byte) (int, error)      { c.written += len(b); return len(b), nil }
func (c *discardConn) Close() error                     { return nil }
func (c *discardConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *discardConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *discardConn) SetDeadline(time.Time) error      { return nil }
func (c *discardConn) SetReadDeadline(time.Time) error  { return nil }
func (c *discardConn) SetWriteDeadline(time.Time) error { return nil }

func benchServer(tb testing.TB) *Server {
	tb.Helper()
	cfg := testConfig(tb, Spec())
	s, err := New(cfg, daemon.Env{Name: "cached", Log: daemontest.Logger(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// runBatch feeds one batch of requests to c and processes it as the
// connection loop does.
// checkReplies fails t unless out holds exactly sent well-formed replies,
// none of them the error of a command that panicked.
func checkReplies(t *testing.T, out []byte, sent int) {
	t.Helper()
	r := resp.NewReader(bytes.NewReader(out))
	for i := range sent {
		v, err := r.ReadValue()
		if err != nil {
			t.Fatalf("reply %d of %d: %v", i, sent, err)
		}
		if v.IsError() && strings.Contains(v.String(), "internal error") {
			t.Fatalf("a command panicked: %s", v.String())
		}
	}
	if _, err := r.ReadValue(); err == nil {
		t.Fatalf("more replies than the %d commands", sent)
	}
}

func runBatch(tb testing.TB, c *Client, batch []byte) {
	if err := c.p.Feed(batch); err != nil {
		tb.Fatal(err)
	}
	c.now = time.Now().UnixMilli()
	c.tick = c.srv.mono()
	if !c.processInput() {
		tb.Fatal("connection closed")
	}
}

func BenchmarkCommand(b *testing.B) {
	for _, cmd := range []string{"GET", "SET"} {
		for _, size := range []int{16, 1024} {
			for _, pipeline := range []int{1, 16} {
				b.Run(fmt.Sprintf("cmd=%s/value=%d/pipeline=%d", cmd, size, pipeline), func(b *testing.B) {
					s := benchServer(b)
					conn := &discardConn{}
					c := s.newClient(conn)
					val := strings.Repeat("x", size)
					var batch []byte
					for i := range pipeline {
						key := fmt.Sprintf("key:%06d", i)
						if cmd == "GET" {
							runBatch(b, c, resp.AppendCommandString(nil, "SET", key, val))
							batch = resp.AppendCommandString(batch, "GET", key)
						} else {
							batch = resp.AppendCommandString(batch, "SET", key, val)
						}
					}
					b.ReportAllocs()
					b.SetBytes(int64(len(batch)))
					for b.Loop() {
						runBatch(b, c, batch)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pipeline), "ns/cmd")
				})
			}
		}
	}
}

// SET of random keys with 1 KB values into a full cache: every new key
// evicts one (allkeys-lru), as cache-bench.sh's eviction test does.
func BenchmarkSetEvict(b *testing.B) {
	s := benchServer(b)
	s.ks.SetMaxMemory(16 << 20)
	s.ks.SetPolicy(1) // allkeys-lru
	c := s.newClient(&discardConn{})
	val := strings.Repeat("x", 1024)
	batches := make([][]byte, 4096)
	for i := range batches {
		for j := range 16 {
			batches[i] = resp.AppendCommandString(batches[i], "SET", fmt.Sprintf("key:%07d", (i*16+j)*7919%1000000), val)
		}
	}
	for _, batch := range batches { // fill the cache
		runBatch(b, c, batch)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		runBatch(b, c, batches[i%len(batches)])
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*16), "ns/cmd")
}
