package cached_test

import (
	"strings"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/resp"
)

// A client that disconnects while blocked is freed at once, as Redis frees
// it when its connection's read handler sees the close: it stops counting
// in blocked_clients and CLIENT LIST, and the next pushed value goes to a
// live client (or stays in the key) instead of being consumed by the dead
// connection.
func TestBlockedClientDisconnect(t *testing.T) {
	_, addr := startCached(t, nil)
	rdb := newClient(t, addr, 2)

	for _, tc := range []struct {
		name    string
		block   []string // the blocking command
		extra   string   // pipelined after it, before the close
		push    []string
		check   []string
		want    string
		cleanup string
	}{
		{"blpop", []string{"BLPOP", "dl", "0"}, "", []string{"LPUSH", "dl", "v"}, []string{"LRANGE", "dl", "0", "-1"}, "*1\r\n$1\r\nv\r\n", "dl"},
		{"bzpopmin", []string{"BZPOPMIN", "dz", "0"}, "", []string{"ZADD", "dz", "1", "a"}, []string{"ZRANGE", "dz", "0", "-1"}, "*1\r\n$1\r\na\r\n", "dz"},
		{"blmove", []string{"BLMOVE", "ds", "dd", "LEFT", "LEFT", "0"}, "", []string{"RPUSH", "ds", "x"}, []string{"LRANGE", "ds", "0", "-1"}, "*1\r\n$1\r\nx\r\n", "ds"},
		// Input pipelined behind the blocking command is buffered, not
		// run; the close is still noticed.
		{"blpop with pipelined input", []string{"BLPOP", "dp", "0"}, "*3\r\n$3\r\nSET\r\n$2\r\ndx\r\n$1\r\n1\r\n", []string{"LPUSH", "dp", "v"}, []string{"LRANGE", "dp", "0", "-1"}, "*1\r\n$1\r\nv\r\n", "dp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := dialRaw(t, addr)
			c := dialRaw(t, addr)
			c.do("CLIENT", "SETNAME", "doomed")
			c.send(append(resp.AppendCommandString(nil, tc.block...), tc.extra...))
			waitBlocked(t, rdb, 1)
			_ = c.conn.Close()
			waitBlocked(t, rdb, 0)
			deadline := time.Now().Add(5 * time.Second)
			for strings.Contains(other.do("CLIENT", "LIST"), "name=doomed") {
				if time.Now().After(deadline) {
					t.Fatal("closed client still in CLIENT LIST")
				}
				time.Sleep(2 * time.Millisecond)
			}
			if got := other.do(tc.push...); got != ":1\r\n" {
				t.Fatalf("%v = %q", tc.push, got)
			}
			if got := other.do(tc.check...); got != tc.want {
				t.Fatalf("%v after the blocked client left = %q, want %q (the value went to the closed connection)", tc.check, got, tc.want)
			}
			if tc.extra != "" {
				if got := other.do("EXISTS", "dx"); got != ":0\r\n" {
					t.Fatalf("input pipelined behind the blocking command ran: EXISTS dx = %q", got)
				}
			}
			other.do("DEL", tc.cleanup, "dd")
		})
	}

	// A blocked client that sent more input is served, then runs that
	// input, in order.
	t.Run("pipelined input runs after the wake-up", func(t *testing.T) {
		other := dialRaw(t, addr)
		c := dialRaw(t, addr)
		c.send(append(resp.AppendCommandString(nil, "BLPOP", "dq", "0"), resp.AppendCommandString(nil, "SET", "dy", "1")...))
		waitBlocked(t, rdb, 1)
		if got := other.do("EXISTS", "dy"); got != ":0\r\n" {
			t.Fatalf("input pipelined behind BLPOP ran while it blocked: EXISTS dy = %q", got)
		}
		other.do("RPUSH", "dq", "v")
		if got := c.read(); got != "*2\r\n$2\r\ndq\r\n$1\r\nv\r\n" {
			t.Fatalf("BLPOP = %q", got)
		}
		if got := c.read(); got != "+OK\r\n" {
			t.Fatalf("SET after BLPOP = %q", got)
		}
		other.do("DEL", "dy")
	})
}
