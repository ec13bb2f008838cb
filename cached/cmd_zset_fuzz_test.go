package cached

import (
	"bytes"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/resp"
)

// zsetCaptureConn is a net.Conn that keeps what the server writes.
type zsetCaptureConn struct{ out bytes.Buffer }

func (c *zsetCaptureConn) Read([]byte) (int, error)         { return 0, net.ErrClosed }
func (c *zsetCaptureConn) Write(b []byte) (int, error)      { return c.out.Write(b) }
func (c *zsetCaptureConn) Close() error                     { return nil }
func (c *zsetCaptureConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *zsetCaptureConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *zsetCaptureConn) SetDeadline(time.Time) error      { return nil }
func (c *zsetCaptureConn) SetReadDeadline(time.Time) error  { return nil }
func (c *zsetCaptureConn) SetWriteDeadline(time.Time) error { return nil }

// zsetFuzzCommands are the commands whose argument parsing the fuzz
// target drives (the blocking ones would wait).
var zsetFuzzCommands = []string{
	"ZADD", "ZINCRBY", "ZRANGE", "ZRANGESTORE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX",
	"ZREVRANGEBYLEX", "ZREVRANGE", "ZCOUNT", "ZLEXCOUNT", "ZREMRANGEBYSCORE", "ZREMRANGEBYLEX",
	"ZREMRANGEBYRANK", "ZUNIONSTORE", "ZINTER", "ZDIFF", "ZINTERCARD", "ZUNION", "ZMPOP", "ZPOPMIN",
	"ZRANDMEMBER", "ZSCAN", "ZMSCORE", "ZRANK", "GEOADD", "GEOSEARCH", "GEOSEARCHSTORE", "GEORADIUS",
	"GEORADIUSBYMEMBER", "GEORADIUS_RO", "GEODIST", "GEOPOS", "GEOHASH",
}

// FuzzZSetArgs feeds arbitrary arguments to the sorted-set and geo
// commands (ZADD's flags, ZRANGE's options, numkeys, GEOSEARCH's shapes
// ...) against small and large sets: every command must answer exactly
// one well-formed reply, never panic, and leave the sets consistent.
func FuzzZSetArgs(f *testing.F) {
	for _, seed := range []string{
		"\x00z\x00NX\x00CH\x001\x00a", "\x00z\x00GT\x00INCR\x00-inf\x00a",
		"\x02z\x00(1\x00+inf\x00BYSCORE\x00REV\x00LIMIT\x000\x002\x00WITHSCORES",
		"\x03dst\x00big\x00[a\x00(z\x00BYLEX\x00LIMIT\x001\x00-1",
		"\x0edst\x002\x00z\x00big\x00WEIGHTS\x001\x002\x00AGGREGATE\x00MAX",
		"\x11\x002\x00z\x00big\x00LIMIT\x001", "\x13\x002\x00z\x00big\x00MAX\x00COUNT\x002",
		"\x1ag\x00FROMLONLAT\x0015\x0037\x00BYBOX\x00400\x00400\x00km\x00COUNT\x001\x00ANY\x00WITHCOORD",
		"\x1cg\x0015\x0037\x00200\x00km\x00STOREDIST\x00dst\x00DESC",
		"\x15big\x00-5\x00WITHSCORES", "\x16big\x000\x00MATCH\x00m1*\x00COUNT\x003",
	} {
		f.Add(seed)
	}
	s := benchServer(f)
	conn := &zsetCaptureConn{}
	c := s.newClient(conn)
	run := func(t *testing.T, args ...string) string {
		conn.out.Reset()
		runBatch(t, c, resp.AppendCommandString(nil, args...))
		return conn.out.String()
	}
	f.Fuzz(func(t *testing.T, in string) {
		if in == "" {
			return
		}
		cmd := zsetFuzzCommands[int(in[0])%len(zsetFuzzCommands)]
		args := append([]string{cmd}, strings.Split(in[1:], "\x00")...)
		if cmd == "ZRANDMEMBER" && len(args) > 2 {
			if n, ok := ParseInt([]byte(args[2])); ok && (n > 1e5 || n < -1e5) {
				return // a legitimately huge reply
			}
		}
		run(t, "FLUSHALL")
		run(t, "ZADD", "z", "1", "a", "2", "b", "2", "c", "3", "d")
		big := []string{"ZADD", "big"}
		for i := 0; i < 200; i++ {
			big = append(big, itoa(int64(i%17)), "m"+itoa(int64(i)))
		}
		run(t, big...)
		run(t, "GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")
		run(t, "SET", "str", "v")
		out := run(t, args...)
		r := resp.NewReader(strings.NewReader(out))
		v, err := r.ReadValue()
		if err != nil {
			t.Fatalf("%q: unreadable reply %q: %v", args, out, err)
		}
		if _, err := r.ReadValue(); err == nil {
			t.Fatalf("%q: more than one reply in %q", args, out)
		}
		if v.Kind == resp.KindError && strings.Contains(v.String(), "internal error") {
			t.Fatalf("%q: %s", args, v.String())
		}
		// The sets still answer consistently.
		for _, key := range []string{"z", "big", "dst", "g"} {
			card := run(t, "ZCARD", key)
			all := run(t, "ZRANGE", key, "0", "-1")
			n, _ := resp.NewReader(strings.NewReader(all)).ReadValue()
			if card != ":"+itoa(int64(len(n.Elems)))+"\r\n" && !strings.HasPrefix(card, "-WRONGTYPE") {
				t.Fatalf("%q: %s has ZCARD %q but ZRANGE %q", args, key, card, all)
			}
		}
	})
}

// FuzzZSetFormatScore checks the integral fast path of score formatting
// against the general %.17g formatting.
func FuzzZSetFormatScore(f *testing.F) {
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, 1e15, 1e16, 99999999999999999, 1e17, -1e17, 1e17 - 16, 0.5, 1.1, math.Inf(1), math.Inf(-1), 123456789012345678, 4503599627370496.5} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		if math.IsNaN(v) {
			return
		}
		if got, want := string(zsetFormatScore(nil, v)), string(resp.AppendFloat(nil, v)); got != want {
			t.Fatalf("%v (%#x): %q, want %q", v, bits, got, want)
		}
	})
}
