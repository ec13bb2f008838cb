package resp

import (
	"bytes"
	"errors"
	"testing"
)

// Real request bytes, as clients send them.
var requestSeeds = []string{
	"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
	"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n*1\r\n$4\r\nPING\r\n",
	"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n",
	"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$2\r\n10\r\n",
	"PING\r\n",
	"SET \"a b\" 'c d' \"\\x00\\xff\\n\"\r\n",
	"*0\r\n*-1\r\n\r\n",
	"*1\r\n$-1\r\n",
	"*1\r\n$4\r\nPING",
	"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
	"*x\r\n",
	"SET \"abc\r\n",
}

// Parsing the same bytes whole or in any split gives the same requests and
// the same error, and never panics.
func FuzzParser(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s), uint8(1), false)
		f.Add([]byte(s), uint8(5), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, step uint8, unauth bool) {
		p1 := Parser{MaxQueryBuffer: 1 << 20, MaxBulkLen: 1 << 20, Unauthenticated: unauth}
		whole, err1 := parseAll(t, &p1, in, 0)
		p2 := Parser{MaxQueryBuffer: 1 << 20, MaxBulkLen: 1 << 20, Unauthenticated: unauth}
		split, err2 := parseAll(t, &p2, in, int(step)+1)
		if join(whole) != join(split) {
			t.Fatalf("whole %q, split %q", join(whole), join(split))
		}
		var pe1, pe2 *ProtocolError
		if errors.As(err1, &pe1) != errors.As(err2, &pe2) || (pe1 != nil && pe1.Msg != pe2.Msg) {
			t.Fatalf("errors differ: %v / %v", err1, err2)
		}
		// A request re-encoded in multibulk form parses back the same.
		for _, req := range whole {
			args := make([][]byte, len(req))
			for i, a := range req {
				args[i] = []byte(a)
			}
			var p Parser
			got, err := parseAll(t, &p, AppendCommand(nil, args...), 0)
			if err != nil || len(got) != 1 || join(got) != join([][]string{req}) {
				t.Fatalf("re-encoded %q: %q %v", req, join(got), err)
			}
		}
	})
}

// The reply reader never panics, and what it reads raw it reads again the
// same.
func FuzzReader(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "-ERR x\r\n", ":1\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*2\r\n:1\r\n$1\r\na\r\n",
		"%1\r\n+a\r\n,1.5\r\n", "~1\r\n#t\r\n", ">2\r\n+message\r\n_\r\n", "=7\r\ntxt:abc\r\n", "(123\r\n", "|1\r\n+a\r\n+b\r\n+c\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		raw, err := r.ReadRaw(nil)
		if err != nil {
			return
		}
		if _, err := NewReader(bytes.NewReader(raw)).ReadValue(); err != nil && !errors.Is(err, ErrProtocol) {
			t.Fatalf("%q read raw, then failed to decode: %v", raw, err)
		}
	})
}
