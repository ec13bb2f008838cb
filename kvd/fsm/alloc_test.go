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

// Building a batch entry in a reused Batch and iterating it allocate nothing.
func TestBatchAllocs(t *testing.T) {
	c := Command{Op: OpPut, Stamp: 1, Key: []byte("user/42"), Value: make([]byte, 256)}
	var b Batch
	if n := testing.AllocsPerRun(1000, func() {
		b.Reset()
		for range 8 {
			b.Add(&c)
		}
		var d Command
		if err := Decode(b.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		r := BatchReader{Body: d.Value}
		for r.Next(&d) {
		}
		if r.Count() != 8 || r.Err() != nil {
			t.Fatal(r.Count(), r.Err())
		}
	}); n != 0 {
		t.Fatalf("%v allocations per batch, want 0", n)
	}
}
