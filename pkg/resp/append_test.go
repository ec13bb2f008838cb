package resp

import (
	"bytes"
	"math"
	"testing"
)

func TestAppend(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"simple", AppendSimple(nil, "OK"), "+OK\r\n"},
		{"error", AppendError(nil, "ERR bad\r\nthing"), "-ERR bad  thing\r\n"},
		{"int small", AppendInt(nil, 7), ":7\r\n"},
		{"int", AppendInt(nil, -1234567890123), ":-1234567890123\r\n"},
		{"bulk", AppendBulk(nil, []byte("hi")), "$2\r\nhi\r\n"},
		{"bulk empty", AppendBulk(nil, nil), "$0\r\n\r\n"},
		{"bulk string", AppendBulkString(nil, "x"), "$1\r\nx\r\n"},
		{"bulk int", AppendBulkInt(nil, -12), "$3\r\n-12\r\n"},
		{"null 2", AppendNull(nil, Proto2), "$-1\r\n"},
		{"null 3", AppendNull(nil, Proto3), "_\r\n"},
		{"null array 2", AppendNullArray(nil, Proto2), "*-1\r\n"},
		{"null array 3", AppendNullArray(nil, Proto3), "_\r\n"},
		{"array", AppendArray(nil, 3), "*3\r\n"},
		{"map 2", AppendMap(nil, 2, Proto2), "*4\r\n"},
		{"map 3", AppendMap(nil, 2, Proto3), "%2\r\n"},
		{"set 2", AppendSet(nil, 2, Proto2), "*2\r\n"},
		{"set 3", AppendSet(nil, 2, Proto3), "~2\r\n"},
		{"push 2", AppendPush(nil, 3, Proto2), "*3\r\n"},
		{"push 3", AppendPush(nil, 3, Proto3), ">3\r\n"},
		{"bool 2", AppendBool(nil, true, Proto2), ":1\r\n"},
		{"bool 3", AppendBool(nil, false, Proto3), "#f\r\n"},
		{"double 2", AppendDouble(nil, 1.5, Proto2), "$3\r\n1.5\r\n"},
		{"double 3", AppendDouble(nil, 1.5, Proto3), ",1.5\r\n"},
		{"double %.17g", AppendDouble(nil, 0.1, Proto3), ",0.10000000000000001\r\n"},
		{"double exp", AppendDouble(nil, 1e20, Proto3), ",1e+20\r\n"},
		{"double small exp", AppendDouble(nil, 1.5e-7, Proto3), ",1.4999999999999999e-07\r\n"},
		{"double inf 2", AppendDouble(nil, math.Inf(1), Proto2), "$3\r\ninf\r\n"},
		{"double -inf 3", AppendDouble(nil, math.Inf(-1), Proto3), ",-inf\r\n"},
		{"bignum 3", AppendBigNumber(nil, "12345678901234567890", Proto3), "(12345678901234567890\r\n"},
		{"bignum 2", AppendBigNumber(nil, "1", Proto2), "$1\r\n1\r\n"},
		{"verbatim 3", AppendVerbatim(nil, "txt", []byte("hi"), Proto3), "=6\r\ntxt:hi\r\n"},
		{"verbatim 2", AppendVerbatim(nil, "txt", []byte("hi"), Proto2), "$2\r\nhi\r\n"},
		{"command", AppendCommandString(nil, "GET", "k"), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"},
	}
	for _, c := range cases {
		if string(c.got) != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
}

// Everything the encoders write, the reader reads back, raw and decoded.
func TestReaderRoundTrip(t *testing.T) {
	var b []byte
	b = AppendSimple(b, "OK")
	b = AppendError(b, "ERR x")
	b = AppendInt(b, 42)
	b = AppendBulkString(b, "hello")
	b = AppendNull(b, Proto2)
	b = AppendNull(b, Proto3)
	b = AppendMap(b, 1, Proto3)
	b = AppendBulkString(b, "k")
	b = AppendDouble(b, 2.5, Proto3)
	b = AppendSet(b, 2, Proto3)
	b = AppendBool(b, true, Proto3)
	b = AppendBigNumber(b, "99", Proto3)
	b = AppendPush(b, 1, Proto3)
	b = AppendVerbatim(b, "txt", []byte("v"), Proto3)
	b = append(b, "|1\r\n+a\r\n+b\r\n:5\r\n"...) // an attribute, then the value it annotates
	b = AppendNullArray(b, Proto2)

	r := NewReader(bytes.NewReader(b))
	var want []string = []string{`"OK"`, "(error) ERR x", "42", `"hello"`, "(nil)", "(nil)", `%["k" 2.5]`, `~[1 "99"]`, `>["txt:v"]`, "5", "(nil)"}
	for i, w := range want {
		v, err := r.ReadValue()
		if err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		if v.String() != w {
			t.Errorf("value %d: %s, want %s", i, v, w)
		}
	}
	r = NewReader(bytes.NewReader(b))
	var raw []byte
	for range want {
		var err error
		if raw, err = r.ReadRaw(raw); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(raw, b) {
		t.Fatalf("ReadRaw: %q, want %q", raw, b)
	}
}

func TestReaderMalformed(t *testing.T) {
	for _, in := range []string{"?x\r\n", ":1x\r\n", "$5\r\nab", "$-2\r\n", "*1\r\n", "+OK\n", "#x\r\n"} {
		r := NewReader(bytes.NewReader([]byte(in)))
		if _, err := r.ReadValue(); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}
