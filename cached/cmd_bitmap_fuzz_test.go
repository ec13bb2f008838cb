package cached

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/resp"
)

// TestBitmapEvents checks the keyspace events and the key modifications
// (WATCH, tracking) of the bitmap commands: none when nothing changed.
func TestBitmapEvents(t *testing.T) {
	l, c := startWithEventLog(t)
	for _, step := range []struct {
		cmd      []string
		events   []string
		modified []string
	}{
		{[]string{"SETBIT", "b", "3", "1"}, []string{"setbit b"}, []string{"b", "b"}},
		{[]string{"SETBIT", "b", "3", "1"}, nil, nil},
		{[]string{"SETBIT", "b", "3", "0"}, []string{"setbit b"}, []string{"b"}},
		{[]string{"SETBIT", "b", "20", "0"}, []string{"setbit b"}, []string{"b"}},
		{[]string{"GETBIT", "b", "3"}, nil, nil},
		{[]string{"BITFIELD", "b", "SET", "u8", "0", "0"}, nil, nil},
		{[]string{"BITFIELD", "b", "SET", "u8", "0", "5", "GET", "u8", "0"}, []string{"setbit b"}, []string{"b"}},
		{[]string{"BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"}, nil, nil},
		{[]string{"BITFIELD", "b", "INCRBY", "u8", "0", "0"}, nil, nil},
		{[]string{"BITFIELD", "b", "GET", "u8", "0"}, nil, nil},
		{[]string{"BITOP", "OR", "d", "b"}, []string{"set d"}, []string{"d"}},
		{[]string{"BITOP", "OR", "d", "nokey"}, []string{"del d"}, []string{"d"}},
		{[]string{"BITOP", "OR", "d", "nokey"}, nil, nil},
		{[]string{"BITCOUNT", "b"}, nil, nil},
		{[]string{"BITPOS", "b", "1"}, nil, nil},
	} {
		c.send(step.cmd...)
		if _, err := c.read(5 * time.Second); err != nil {
			t.Fatalf("%v: %v", step.cmd, err)
		}
		events, modified := l.take()
		if !slices.Equal(events, step.events) {
			t.Errorf("%v: events %q, want %q", step.cmd, events, step.events)
		}
		if len(modified) > 0 && len(step.modified) > 0 {
			// creating then growing a key may report it more than once
			modified = slices.Compact(modified)
			step.modified = slices.Compact(step.modified)
		}
		if !slices.Equal(modified, step.modified) {
			t.Errorf("%v: modified %q, want %q", step.cmd, modified, step.modified)
		}
	}
}

// FuzzBitmapCommands decodes the input into bitmap commands with
// arguments from a small alphabet (offsets near the byte and word edges,
// negative and huge numbers, bitfield types, options, malformed values),
// runs them through the whole command path, and checks that every reply
// is well-formed and no command panicked. Then, for every key left, it
// checks BITCOUNT and BITPOS with ranges taken from the input against a
// bit-by-bit oracle, and BITFIELD GET against the bits of the value.
func FuzzBitmapCommands(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add([]byte("\x00\x05\x09\x0d\x11\x15\x19\x1d\x21\x25\x29\x2d\x31\x35\x39\x3d"))
	f.Add(bytes.Repeat([]byte{7, 200, 33, 91, 2, 250, 18}, 20))
	cmds := []string{"SETBIT", "GETBIT", "BITCOUNT", "BITPOS", "BITOP", "BITFIELD", "BITFIELD_RO", "SET", "APPEND", "DEL", "SETRANGE"}
	words := []string{"k1", "k2", "k1", "0", "1", "7", "8", "-1", "63", "64", "65", "-8", "100", "2", "x", "",
		"9223372036854775807", "-9223372036854775808", "4294967296", "BIT", "BYTE", "AND", "OR", "XOR", "NOT",
		"GET", "SET", "INCRBY", "OVERFLOW", "WRAP", "SAT", "FAIL", "i8", "u8", "i64", "u63", "u64", "i1", "u1", "i13",
		"#0", "#1", "#-1", "#3", "\xff\x00\xf0", "foobar", "-100", "300"}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := benchServer(t)
		conn := &captureConn{}
		c := s.newClient(conn)
		var batch []byte
		sent := 0
		seed := data
		for len(data) >= 2 {
			name := cmds[int(data[0])%len(cmds)]
			n := 1 + int(data[1])%7
			data = data[2:]
			args := []string{name}
			for ; n > 0 && len(data) > 0; n-- {
				args = append(args, words[int(data[0])%len(words)])
				data = data[1:]
			}
			batch = resp.AppendCommandString(batch, args...)
			sent++
		}
		runBatch(t, c, batch)
		checkReplies(t, conn.out.Bytes(), sent)

		// The oracle checks, for each string key left.
		for _, key := range []string{"k1", "k2"} {
			val, ok := fuzzGet(t, c, conn, key)
			if !ok {
				continue
			}
			for i := 0; i+1 < len(seed) && i < 40; i += 2 {
				a, b := int64(int8(seed[i])), int64(int8(seed[i+1]))
				bit := int64(seed[i] & 1)
				for _, unit := range []string{"", "BYTE", "BIT"} {
					args := []string{"BITCOUNT", key, itoa(a), itoa(b)}
					if unit != "" {
						args = append(args, unit)
					}
					if got, want := fuzzInt(t, c, conn, args...), oracleBitcount(val, a, b, unit == "BIT"); got != want {
						t.Fatalf("%v on %q = %d, want %d", args, val, got, want)
					}
					args = []string{"BITPOS", key, itoa(bit), itoa(a), itoa(b)}
					if unit != "" {
						args = append(args, unit)
					}
					if got, want := fuzzInt(t, c, conn, args...), oracleBitpos(val, bit, a, b, true, unit == "BIT"); got != want {
						t.Fatalf("%v on %q = %d, want %d", args, val, got, want)
					}
				}
				args := []string{"BITPOS", key, itoa(bit), itoa(a)}
				if got, want := fuzzInt(t, c, conn, args...), oracleBitpos(val, bit, a, -1, false, false); got != want {
					t.Fatalf("%v on %q = %d, want %d", args, val, got, want)
				}
				off := int64(seed[i+1]) % (int64(len(val))*8 + 16)
				width := 1 + int64(seed[i])%63
				args = []string{"BITFIELD_RO", key, "GET", "u" + itoa(width), itoa(off)}
				if got, want := fuzzArray(t, c, conn, args...), oracleField(val, off, width); got != want {
					t.Fatalf("%v on %q = %d, want %d", args, val, got, want)
				}
			}
		}
	})
}

func fuzzDo(t *testing.T, c *Client, conn *captureConn, args ...string) resp.Value {
	t.Helper()
	conn.out.Reset()
	runBatch(t, c, resp.AppendCommandString(nil, args...))
	v, err := resp.NewReader(bytes.NewReader(conn.out.Bytes())).ReadValue()
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

func fuzzGet(t *testing.T, c *Client, conn *captureConn, key string) ([]byte, bool) {
	v := fuzzDo(t, c, conn, "GET", key)
	if v.Kind != resp.KindBulk {
		return nil, false
	}
	return v.Str, true
}

func fuzzInt(t *testing.T, c *Client, conn *captureConn, args ...string) int64 {
	t.Helper()
	v := fuzzDo(t, c, conn, args...)
	if v.Kind != resp.KindInt {
		t.Fatalf("%v: %s", args, v.String())
	}
	return v.Int
}

func fuzzArray(t *testing.T, c *Client, conn *captureConn, args ...string) int64 {
	t.Helper()
	v := fuzzDo(t, c, conn, args...)
	if v.Kind != resp.KindArray || len(v.Elems) != 1 || v.Elems[0].Kind != resp.KindInt {
		t.Fatalf("%v: %s", args, v.String())
	}
	return v.Elems[0].Int
}

func bitAt(p []byte, i int64) int64 {
	if i < 0 || i>>3 >= int64(len(p)) {
		return 0
	}
	return int64(p[i>>3]>>(7-i&7)) & 1
}

// oracleRange normalizes BITCOUNT/BITPOS start and end to a bit range,
// bit by bit; ok is false for an empty range.
func oracleRange(p []byte, start, end int64, isBit bool) (lo, hi int64, ok bool) {
	total := int64(len(p))
	if isBit {
		total *= 8
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	end = min(end, total-1)
	if start > end {
		return 0, 0, false
	}
	if isBit {
		return start, end, true
	}
	return start * 8, end*8 + 7, true
}

func oracleBitcount(p []byte, start, end int64, isBit bool) int64 {
	if start < 0 && end < 0 && start > end {
		return 0
	}
	lo, hi, ok := oracleRange(p, start, end, isBit)
	if !ok {
		return 0
	}
	var n int64
	for i := lo; i <= hi; i++ {
		n += bitAt(p, i)
	}
	return n
}

func oracleBitpos(p []byte, bit, start, end int64, endGiven, isBit bool) int64 {
	if !endGiven {
		end = -1
	}
	lo, hi, ok := oracleRange(p, start, end, isBit)
	if !ok {
		return -1
	}
	for i := lo; i <= hi; i++ {
		if bitAt(p, i) == bit {
			return i
		}
	}
	if bit == 1 || endGiven {
		return -1
	}
	return hi + 1
}

func oracleField(p []byte, off, width int64) int64 {
	var v int64
	for i := off; i < off+width; i++ {
		v = v<<1 | bitAt(p, i)
	}
	return v
}
