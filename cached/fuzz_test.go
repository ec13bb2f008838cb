package cached

import (
	"bytes"
	"strings"
	"testing"

	"github.com/anvilstack/anvil/pkg/resp"
)

// Command argument parsing, fuzzed: any sequence of commands with any
// arguments, run through the real dispatcher and handlers, never panics
// (a recovered panic would reply "ERR internal error") and always leaves a
// server that answers.
func FuzzCommands(f *testing.F) {
	seeds := []string{
		"SET k v EX 10 NX GET", "GET k", "SET k v PXAT 1 KEEPTTL", "GETEX k PERSIST EX 5",
		"INCRBYFLOAT k 1e308", "INCRBY k -9223372036854775808", "SETRANGE k 536870911 x",
		"GETRANGE k -9223372036854775808 9223372036854775807", "LCS a b IDX MINMATCHLEN -1 WITHMATCHLEN",
		"EXPIRE k 9223372036854775807 GT", "PEXPIREAT k -1 NX", "SCAN 18446744073709551615 MATCH [ COUNT 1 TYPE x",
		"KEYS [^\\", "COPY a b DB 1 REPLACE", "MOVE a -1", "SWAPDB 0 15", "MULTI", "EXEC", "WATCH a b",
		"CONFIG SET maxmemory 1 maxmemory-policy allkeys-lru", "CONFIG GET *", "CLIENT LIST ID 1 2",
		"CLIENT KILL ID 1 SKIPME no", "OBJECT FREQ k", "MEMORY USAGE k SAMPLES 0", "COMMAND GETKEYS SET a b",
		"SLOWLOG GET -1", "LATENCY HISTOGRAM set", "HELLO 3 SETNAME x", "CLIENT REPLY SKIP", "RESET",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		s := benchServer(t)
		conn := &discardConn{}
		c := s.newClient(conn)
		var batch []byte
		for _, line := range strings.Split(script, ";") {
			args := strings.Fields(line)
			if len(args) == 0 || len(args) > 64 {
				continue
			}
			switch strings.ToLower(args[0]) {
			case "quit", "client", "debug", "save", "bgsave":
				if len(args) > 1 && strings.EqualFold(args[1], "kill") || !strings.EqualFold(args[0], "client") {
					continue // these end the connection or write files
				}
			}
			batch = resp.AppendCommandString(batch, args...)
		}
		batch = resp.AppendCommandString(batch, "RESET")
		batch = resp.AppendCommandString(batch, "PING")
		capture := &recordConn{}
		c.conn = capture
		runBatch(t, c, batch)
		if bytes.Contains(capture.out.Bytes(), []byte("internal error")) {
			t.Fatalf("a command panicked: %q", script)
		}
		if !bytes.HasSuffix(capture.out.Bytes(), []byte("+PONG\r\n")) {
			t.Fatalf("server did not answer PING after %q: ...%q", script, tail(capture.out.Bytes()))
		}
	})
}

func tail(b []byte) []byte {
	if len(b) > 200 {
		return b[len(b)-200:]
	}
	return b
}

// recordConn is a discardConn that keeps what is written.
type recordConn struct {
	discardConn
	out bytes.Buffer
}

func (c *recordConn) Write(b []byte) (int, error) { return c.out.Write(b) }
