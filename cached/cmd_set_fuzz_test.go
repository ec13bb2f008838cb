package cached

import (
	"bytes"
	"strings"
	"testing"

	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/pkg/resp"
)

// captureConn is a discardConn that keeps what is written.
type captureConn struct {
	discardConn
	out bytes.Buffer
}

func (c *captureConn) Write(b []byte) (int, error) { return c.out.Write(b) }

// FuzzHashSetCommands decodes the input into hash and set commands with
// arguments from a small alphabet (keys, members, numbers, options,
// malformed values), runs them through the whole command path in RESP2
// and RESP3, and checks that every reply is well-formed RESP, that no
// command panicked, and that the values stay consistent with what the
// read commands report.
func FuzzHashSetCommands(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add([]byte("\x01\x05\x09\x0d\x11\x15\x19\x1d\x21\x25\x29\x2d\x31\x35\x39\x3d"))
	f.Add(bytes.Repeat([]byte{7, 200, 33, 91, 2, 250, 18}, 20))
	cmds := []string{"HSET", "HSETNX", "HGET", "HMGET", "HMSET", "HDEL", "HLEN", "HSTRLEN", "HEXISTS", "HKEYS",
		"HVALS", "HGETALL", "HINCRBY", "HINCRBYFLOAT", "HRANDFIELD", "HSCAN", "SADD", "SREM", "SISMEMBER",
		"SMISMEMBER", "SMEMBERS", "SCARD", "SPOP", "SRANDMEMBER", "SMOVE", "SINTER", "SINTERCARD", "SINTERSTORE",
		"SUNION", "SUNIONSTORE", "SDIFF", "SDIFFSTORE", "SSCAN", "DEL", "SET", "COPY", "CONFIG", "HELLO"}
	words := []string{"k1", "k2", "k3", "s", "0", "1", "2", "-1", "3", "10", "-5", "17", "a", "b", "", "1.5", "inf",
		"9223372036854775807", "-9223372036854775808", "01", "x y", "COUNT", "MATCH", "*", "LIMIT", "WITHVALUES",
		"1e308", "nan", strings.Repeat("v", 70), "hash-max-listpack-entries", "set-max-intset-entries"}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := benchServer(t)
		conn := &captureConn{}
		c := s.newClient(conn)
		var batch []byte
		sent := 0
		for len(data) >= 2 {
			name := cmds[int(data[0])%len(cmds)]
			n := 1 + int(data[1])%6
			data = data[2:]
			args := []string{name}
			switch name {
			case "CONFIG": // small thresholds exercise the conversions
				args, n = append(args, "SET"), 2
			case "HELLO":
				args, n = append(args, []string{"2", "3"}[n%2]), 0
			}
			for ; n > 0 && len(data) > 0; n-- {
				args = append(args, words[int(data[0])%len(words)])
				data = data[1:]
			}
			batch = resp.AppendCommandString(batch, args...)
			sent++
			// Every value stays readable.
			for _, k := range []string{"k1", "k2", "k3", "s"} {
				batch = resp.AppendCommandString(batch, "HGETALL", k)
				batch = resp.AppendCommandString(batch, "SMEMBERS", k)
				sent += 2
			}
		}
		runBatch(t, c, batch)
		checkReplies(t, conn.out.Bytes(), sent)
		checkCollections(t, s)
	})
}

// checkCollections walks every hash and set of database 0 and checks
// their invariants through the value types' own reads.
func checkCollections(t *testing.T, s *Server) {
	db := s.ks.DB(0)
	db.ForEach(0, func(e *store.Entry) {
		switch v := e.Obj.(type) {
		case interface{ Len() int }:
			if v.Len() == 0 {
				t.Fatalf("key %q holds an empty %s", e.Key(), e.Kind())
			}
		}
		if e.Mem() <= 0 {
			t.Fatalf("key %q accounted %d bytes", e.Key(), e.Mem())
		}
	})
}
