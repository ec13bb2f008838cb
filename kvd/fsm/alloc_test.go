//go:build !race

package fsm

import "testing"

// Encoding a command into a reused buffer and decoding it allocate nothing.
func TestCommandAllocs(t *testing.T) {
	c := Command{Op: OpPut, Stamp: 1, Key: []byte("user/42"), Value: make([]byte, 256), HasPrev: true, Prev: 9, TTL: 1000}
	buf := make([]byte, 0, 512)
	var d Command
	if n := testing.AllocsPerRun(1000, func() {
		buf = c.Append(buf[:0])
		if err := Decode(buf, &d); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per encode+decode, want 0", n)
	}
}
