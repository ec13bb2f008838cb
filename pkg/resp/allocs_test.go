//go:build !race

package resp

import (
	"bytes"
	"testing"
)

// Parsing a pipelined GET and SET and writing their replies allocates
// nothing once the parser's and the reply buffer's memory is warm.
func TestAllocsGetSet(t *testing.T) {
	in := []byte("*3\r\n$3\r\nSET\r\n$8\r\nkey:1234\r\n$16\r\n0123456789abcdef\r\n*2\r\n$3\r\nGET\r\n$8\r\nkey:1234\r\n")
	var p Parser
	out := make([]byte, 0, 1024)
	src := bytes.NewReader(in)
	allocs := testing.AllocsPerRun(1000, func() {
		src.Reset(in)
		if _, err := p.Fill(src); err != nil {
			t.Fatal(err)
		}
		out = out[:0]
		for {
			args, err := p.Next()
			if err != nil {
				t.Fatal(err)
			}
			if args == nil {
				break
			}
			if len(args) == 3 {
				out = append(out, OK...)
			} else {
				out = AppendBulk(out, args[1])
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per parse+reply of SET and GET, want 0", allocs)
	}
}
