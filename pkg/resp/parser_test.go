package resp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// parseAll feeds in to a fresh parser in chunks of size step (all at once
// when step is 0) and returns every request, as strings joined by spaces
// with args quoted, and the first error.
func parseAll(t testing.TB, p *Parser, in []byte, step int) ([][]string, error) {
	var out [][]string
	if step <= 0 {
		step = len(in) + 1
	}
	for len(in) > 0 {
		n := min(step, len(in))
		if err := p.Feed(in[:n]); err != nil {
			return out, err
		}
		in = in[n:]
		for {
			args, err := p.Next()
			if err != nil {
				return out, err
			}
			if args == nil {
				break
			}
			req := make([]string, len(args))
			for i, a := range args {
				req[i] = string(a)
			}
			out = append(out, req)
		}
	}
	return out, nil
}

func join(reqs [][]string) string {
	var parts []string
	for _, r := range reqs {
		parts = append(parts, strings.Join(r, "|"))
	}
	return strings.Join(parts, " ; ")
}

func TestParser(t *testing.T) {
	cases := []struct {
		name, in string
		want     string // requests as "a|b ; c"
		err      string // protocol error message, if any
	}{
		{"multibulk", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n", "SET|k|hello", ""},
		{"pipeline", "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "PING ; GET|k", ""},
		{"empty bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", "ECHO|", ""},
		{"binary", "*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", "ECHO|a\r\nb", ""},
		{"zero and negative counts skipped", "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", "PING", ""},
		{"trailer not checked", "*1\r\n$4\r\nPINGxx", "PING", ""},
		{"inline", "PING\r\n", "PING", ""},
		{"inline lf only", "SET k v\n", "SET|k|v", ""},
		{"inline blanks", "  GET   k  \r\n\r\n\n", "GET|k", ""},
		{"inline double quotes", "SET \"a b\" \"\\x41\\n\\\"\"\r\n", "SET|a b|A\n\"", ""},
		{"inline single quotes", "SET 'it\\'s' 'a\\nb'\r\n", "SET|it's|a\\nb", ""},
		{"inline quote in word", "SET a\"b c\" e\r\n", "SET|ab c|e", ""},
		{"inline quote in word then char", "SET a\"b c\"d e\r\n", "", "Protocol error: unbalanced quotes in request"},
		{"inline empty quoted", "SET k \"\"\r\n", "SET|k|", ""},
		{"inline unbalanced", "SET \"abc\r\n", "", "Protocol error: unbalanced quotes in request"},
		{"inline quote then char", "SET \"a\"b\r\n", "", "Protocol error: unbalanced quotes in request"},
		{"inline NUL ends line", "GET k\x00junk\r\n", "GET|k", ""},
		{"bad mbulk", "*x\r\n", "", "Protocol error: invalid multibulk length"},
		{"mbulk leading zero", "*01\r\n", "", "Protocol error: invalid multibulk length"},
		{"mbulk plus", "*+1\r\n", "", "Protocol error: invalid multibulk length"},
		{"mbulk too many", "*2147483648\r\n", "", "Protocol error: invalid multibulk length"},
		{"expected dollar", "*1\r\n:1\r\n", "", "Protocol error: expected '$', got ':'"},
		{"bad bulk", "*1\r\n$-1\r\n", "", "Protocol error: invalid bulk length"},
		{"bulk too long", "*1\r\n$536870913\r\n", "", "Protocol error: invalid bulk length"},
		{"bulk at max", "*1\r\n$536870912\r\n", "", ""},
		{"too big inline", strings.Repeat("a", MaxInlineSize+1), "", "Protocol error: too big inline request"},
		{"too big mbulk count", "*" + strings.Repeat("1", MaxInlineSize+1), "", "Protocol error: too big mbulk count string"},
		{"too big bulk count", "*1\r\n$" + strings.Repeat("1", MaxInlineSize+1), "", "Protocol error: too big bulk count string"},
	}
	for _, tc := range cases {
		for _, step := range []int{0, 1, 3} {
			var p Parser
			reqs, err := parseAll(t, &p, []byte(tc.in), step)
			if tc.err != "" {
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Msg != tc.err {
					t.Errorf("%s (step %d): err %v, want %q", tc.name, step, err, tc.err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s (step %d): %v", tc.name, step, err)
				continue
			}
			if got := join(reqs); got != tc.want {
				t.Errorf("%s (step %d): got %q, want %q", tc.name, step, got, tc.want)
			}
		}
	}
}

func TestParserUnauthenticatedLimits(t *testing.T) {
	p := Parser{Unauthenticated: true}
	_, err := parseAll(t, &p, []byte("*11\r\n"), 0)
	if err == nil || err.Error() != "Protocol error: unauthenticated multibulk length" {
		t.Fatalf("11 args unauthenticated: %v", err)
	}
	p = Parser{Unauthenticated: true}
	_, err = parseAll(t, &p, []byte("*1\r\n$16385\r\n"), 0)
	if err == nil || err.Error() != "Protocol error: unauthenticated bulk length" {
		t.Fatalf("16385-byte bulk unauthenticated: %v", err)
	}
	p = Parser{Unauthenticated: true}
	reqs, err := parseAll(t, &p, []byte("*2\r\n$4\r\nAUTH\r\n$16384\r\n"+strings.Repeat("x", 16384)+"\r\n"), 0)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("at the limits: %v %d", err, len(reqs))
	}
}

func TestParserMaxBulkLenConfigured(t *testing.T) {
	p := Parser{MaxBulkLen: 10}
	_, err := parseAll(t, &p, []byte("*1\r\n$11\r\n"), 0)
	if err == nil || err.Error() != "Protocol error: invalid bulk length" {
		t.Fatalf("got %v", err)
	}
}

// A client that keeps sending one request bigger than the limit is cut
// off, and the parser never holds much more than the limit.
func TestParserQueryBufferLimit(t *testing.T) {
	const limit = 1 << 20
	p := Parser{MaxQueryBuffer: limit}
	src := io.MultiReader(strings.NewReader("*2\r\n$3\r\nSET\r\n$100000000\r\n"), zeroReader{})
	var err error
	for i := 0; i < 10000 && err == nil; i++ {
		_, err = p.Fill(src)
		if err == nil {
			if args, perr := p.Next(); perr != nil || args != nil {
				t.Fatalf("unexpected %v %v", args, perr)
			}
		}
	}
	if !errors.Is(err, ErrQueryBufferLimit) {
		t.Fatalf("err = %v, want ErrQueryBufferLimit", err)
	}
	if c := p.BufferCap(); c > 4*limit {
		t.Fatalf("buffer grew to %d for a limit of %d", c, limit)
	}
}

// Many empty arguments count against the limit too (their bookkeeping
// costs memory even though the bytes are few).
func TestParserManyArgsBounded(t *testing.T) {
	p := Parser{MaxQueryBuffer: 1 << 20}
	src := io.MultiReader(strings.NewReader("*2000000000\r\n"), repeatReader("$0\r\n\r\n"))
	var err error
	for i := 0; i < 100000 && err == nil; i++ {
		if _, err = p.Fill(src); err == nil {
			_, err = p.Next()
		}
	}
	if !errors.Is(err, ErrQueryBufferLimit) {
		t.Fatalf("err = %v, want ErrQueryBufferLimit", err)
	}
}

// A large bulk arrives in pieces; the declared length alone does not make
// the parser allocate it.
func TestParserLargeBulk(t *testing.T) {
	var p Parser
	if err := p.Feed([]byte("*2\r\n$4\r\nECHO\r\n$300000000\r\n")); err != nil {
		t.Fatal(err)
	}
	if args, err := p.Next(); args != nil || err != nil {
		t.Fatal(args, err)
	}
	if err := p.Feed([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if c := p.BufferCap(); c > 1<<20 {
		t.Fatalf("buffer is %d bytes after 3 bytes of a 300 MB bulk", c)
	}
	big := bytes.Repeat([]byte("x"), 3<<20)
	p = Parser{}
	in := append([]byte("*2\r\n$4\r\nECHO\r\n$3145728\r\n"), big...)
	in = append(in, "\r\n*1\r\n$4\r\nPING\r\n"...)
	reqs, err := parseAll(t, &p, in, 7000)
	if err != nil || len(reqs) != 2 || reqs[0][1] != string(big) || reqs[1][0] != "PING" {
		t.Fatalf("large bulk: %v, %d requests", err, len(reqs))
	}
	p.Reset()
	if p.BufferCap() != 0 {
		t.Fatalf("Reset kept a %d-byte buffer", p.BufferCap())
	}
}

func TestParseInt(t *testing.T) {
	good := map[string]int64{"0": 0, "1": 1, "-1": -1, "9223372036854775807": 1<<63 - 1, "-9223372036854775808": -1 << 63}
	for s, want := range good {
		if n, ok := ParseInt([]byte(s)); !ok || n != want {
			t.Errorf("ParseInt(%q) = %d %v", s, n, ok)
		}
	}
	for _, s := range []string{"", "-", "01", "+1", " 1", "1 ", "9223372036854775808", "-9223372036854775809", "1.0", "-0", "123456789012345678901"} {
		if _, ok := ParseInt([]byte(s)); ok {
			t.Errorf("ParseInt(%q) accepted", s)
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

type repeatReader string

func (r repeatReader) Read(b []byte) (int, error) {
	n := 0
	for n+len(r) <= len(b) {
		n += copy(b[n:], r)
	}
	if n == 0 {
		n = copy(b, r)
	}
	return n, nil
}
