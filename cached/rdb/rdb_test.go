package rdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"
)

func TestCRC64(t *testing.T) {
	// Redis's crc64 test vector.
	if got := CRC64(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64 = %#x", got)
	}
	// Chaining gives the same as one call.
	a, b := []byte("hello "), []byte("world")
	if CRC64(CRC64(0, a), b) != CRC64(0, []byte("hello world")) {
		t.Fatal("chained crc64 differs")
	}
}

// Payloads captured from Redis 7.0.15's DUMP.
func TestRedisPayloads(t *testing.T) {
	for _, c := range []struct {
		payload string
		want    string
	}{
		{"\x00\x05hello\n\x00cr\xdfve4 \n", "string hello"},
		{"\x00\xc09\n\x00\xeaZ\xc5\x03BC\x1a\x87", "string 57"},
		{"\x12\x01\x02\x0f\x0f\x00\x00\x00\x03\x00\x81a\x02\x01\x01\x81b\x02\xff\n\x00\x90C\xa3L\xeb\x8e\x1b\x1c", "list a 1 b"},
		{"\x11\x14\x14\x00\x00\x00\x04\x00\x81a\x02\x831.5\x04\x81b\x02\x02\x01\xff\n\x00\xfa\x02\xb4%\xaf\x18\x87c", "zset a:1.5 b:2"},
	} {
		if !Verify([]byte(c.payload)) {
			t.Fatalf("%q does not verify", c.payload)
		}
		var s recorder
		if err := Decode([]byte(c.payload), Limits{MaxBytes: 1 << 20}, &s); err != nil {
			t.Fatalf("%q: %v", c.payload, err)
		}
		if got := s.text(); got != c.want {
			t.Fatalf("%q: %s, want %s", c.payload, got, c.want)
		}
	}
}

func TestVerify(t *testing.T) {
	p := NewEncoder(nil)
	p.Byte(TypeString)
	p.String([]byte("x"))
	good := p.Finish()
	if !Verify(good) {
		t.Fatal("own payload fails")
	}
	for i := range good {
		bad := slices.Clone(good)
		bad[i] ^= 0x40
		if Verify(bad) && i != len(good)-9 { // flipping the version's high byte down is still a valid version
			t.Errorf("byte %d flipped still verifies", i)
		}
	}
	if Verify(good[:9]) {
		t.Fatal("9 bytes verify")
	}
}

func TestLZFRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var htab lzfTable
	for i := 0; i < 300; i++ {
		n := rng.IntN(20000) + 1
		in := make([]byte, n)
		alpha := 1 + rng.IntN(256)
		for j := range in {
			if j > 8 && rng.IntN(4) == 0 {
				in[j] = in[j-1-rng.IntN(8)]
			} else {
				in[j] = byte(rng.IntN(alpha))
			}
		}
		c := lzfCompress(in, n+n/32+64, &htab)
		if c == nil {
			t.Fatalf("input %d did not compress into n+n/32+64", i)
		}
		out, err := lzfDecompress(c, n)
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("input %d: round trip failed (%v)", i, err)
		}
		if lzfCompress(in, len(c)-1, &htab) != nil {
			t.Fatalf("input %d compressed into less than its own size", i)
		}
	}
	if _, err := lzfDecompress([]byte{0x00, 'a'}, 2); err == nil {
		t.Fatal("short output accepted")
	}
	if _, err := lzfDecompress([]byte{0x20, 0x00}, 3); err == nil {
		t.Fatal("back reference before the start accepted")
	}
}

func TestListpackRoundTrip(t *testing.T) {
	elems := []string{"", "a", "0", "-0", "00", "127", "128", "-1", "-4096", "4095", "4096", "-4097", "32767", "-32768",
		"32768", "8388607", "-8388608", "8388608", "2147483647", "-2147483648", "2147483648",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "1e5", " 1",
		string(bytes.Repeat([]byte("x"), 63)), string(bytes.Repeat([]byte("y"), 64)),
		string(bytes.Repeat([]byte("z"), 4095)), string(bytes.Repeat([]byte("w"), 4096)), string(bytes.Repeat([]byte("v"), 70000))}
	lp := NewListpack(nil)
	for _, e := range elems {
		lp.Append([]byte(e))
	}
	b := lp.Bytes()
	var got []string
	var buf [24]byte
	if err := lpEach(b, func(e *lpEntry) error { got = append(got, string(e.bytes(buf[:]))); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, elems) {
		t.Fatalf("listpack round trip:\n got %q\nwant %q", got, elems)
	}
	// Every truncation and every single-byte change of a smaller one is
	// either rejected or still reads as a well-formed listpack.
	small := NewListpack(nil)
	for _, e := range elems[:len(elems)-3] {
		small.Append([]byte(e))
	}
	b = small.Bytes()
	for i := range b {
		_ = lpEach(b[:i], func(*lpEntry) error { return nil })
		c := slices.Clone(b)
		c[i]++
		_ = lpEach(c, func(*lpEntry) error { return nil })
	}
}

func TestIntset(t *testing.T) {
	for _, ints := range [][]int64{{1, 2, 3}, {-40000, 5}, {math.MinInt64, 0, math.MaxInt64}} {
		b := AppendIntset(nil, ints)
		var got []int64
		if err := intsetEach(b, func(v int64) error { got = append(got, v); return nil }); err != nil || !slices.Equal(got, ints) {
			t.Fatalf("%v: %v (%v)", ints, got, err)
		}
	}
	if intsetEach(AppendIntset(nil, []int64{2, 1}), func(int64) error { return nil }) == nil {
		t.Fatal("unsorted intset accepted")
	}
	if intsetEach(AppendIntset(nil, []int64{1, 1}), func(int64) error { return nil }) == nil {
		t.Fatal("duplicate accepted")
	}
}

// recorder is a Sink that renders what it gets.
type recorder struct{ b bytes.Buffer }

func (r *recorder) Begin(k Kind, typ byte, hint int) error {
	r.b.WriteString([]string{"string", "list", "set", "zset", "hash"}[k])
	return nil
}
func (r *recorder) String(s []byte) error { fmt.Fprintf(&r.b, " %s", s); return nil }
func (r *recorder) Elem(s []byte) error   { fmt.Fprintf(&r.b, " %s", s); return nil }
func (r *recorder) Int(v int64) error     { fmt.Fprintf(&r.b, " %d", v); return nil }
func (r *recorder) Pair(f, v []byte) error {
	fmt.Fprintf(&r.b, " %s=%s", f, v)
	return nil
}
func (r *recorder) Scored(m []byte, s float64) error {
	fmt.Fprintf(&r.b, " %s:%s", m, strconv.FormatFloat(s, 'g', -1, 64))
	return nil
}
func (r *recorder) text() string { return r.b.String() }

// Encoder output decodes back to the same elements for every type.
func TestEncodeDecode(t *testing.T) {
	check := func(name string, build func(e *Encoder), want string) {
		t.Helper()
		e := NewEncoder(nil)
		build(e)
		p := e.Finish()
		if !Verify(p) {
			t.Fatalf("%s: payload does not verify", name)
		}
		var r recorder
		if err := Decode(p, Limits{MaxBytes: 1 << 24}, &r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.text() != want {
			t.Fatalf("%s:\n got %.200s\nwant %.200s", name, r.text(), want)
		}
	}
	long := string(bytes.Repeat([]byte("ab"), 1000))
	check("string", func(e *Encoder) { e.Byte(TypeString); e.String([]byte(long)) }, "string "+long)
	check("int", func(e *Encoder) { e.Byte(TypeString); e.String([]byte("-70000")) }, "string -70000")
	check("hash", func(e *Encoder) {
		lp := NewListpack(nil)
		lp.Append([]byte("f"))
		lp.Append([]byte("12"))
		e.Byte(TypeHashListpack)
		e.String(lp.Bytes())
	}, "hash f=12")
	check("zset2", func(e *Encoder) {
		e.Byte(TypeZSet2)
		e.Len(2)
		e.String([]byte("b"))
		e.BinaryDouble(2.5)
		e.String([]byte("a"))
		e.BinaryDouble(math.Inf(-1))
	}, "zset b:2.5 a:-Inf")
	check("zset listpack text score", func(e *Encoder) {
		lp := NewListpack(nil)
		lp.Append([]byte("m"))
		lp.Append([]byte("1.25"))
		e.Byte(TypeZSetListpack)
		e.String(lp.Bytes())
	}, "zset m:1.25")
	check("quicklist", func(e *Encoder) {
		lp := NewListpack(nil)
		lp.Append([]byte("x"))
		lp.AppendInt(-5)
		e.Byte(TypeListQuicklist2)
		e.Len(2)
		e.Len(ContainerPacked)
		e.String(lp.Bytes())
		e.Len(ContainerPlain)
		e.String([]byte(long))
	}, "list x -5 "+long)
	check("intset", func(e *Encoder) { e.Byte(TypeSetIntset); e.String(AppendIntset(nil, []int64{-1, 300})) }, "set -1 300")
}

// Lengths that claim more than the payload holds are refused before
// anything is allocated for them.
func TestHugeLengths(t *testing.T) {
	for _, body := range [][]byte{
		append([]byte{TypeString}, AppendLen(nil, 1<<40)...),
		append([]byte{TypeList}, AppendLen(nil, 1<<62)...),
		append([]byte{TypeHash}, AppendLen(nil, 1<<31)...),
		append([]byte{TypeString, 0xC3}, append(AppendLen(nil, 4), AppendLen(nil, 1<<40)...)...),
		append([]byte{TypeListQuicklist2}, AppendLen(nil, 1<<50)...),
	} {
		p := finish(body)
		before := allocated()
		err := Decode(p, Limits{MaxBytes: 1 << 20}, &recorder{})
		if err == nil {
			t.Fatalf("%q decoded", body)
		}
		if d := allocated() - before; d > 1<<16 {
			t.Fatalf("%q: %d bytes allocated", body, d)
		}
	}
}

func finish(body []byte) []byte {
	b := binary.LittleEndian.AppendUint16(slices.Clone(body), Version)
	return binary.LittleEndian.AppendUint64(b, CRC64(0, b))
}

func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// countSink counts without keeping anything.
type countSink struct{ n, bytes int }

func (s *countSink) Begin(Kind, byte, int) error      { return nil }
func (s *countSink) String(b []byte) error            { s.n++; s.bytes += len(b); return nil }
func (s *countSink) Elem(b []byte) error              { s.n++; s.bytes += len(b); return nil }
func (s *countSink) Int(int64) error                  { s.n++; return nil }
func (s *countSink) Pair(f, v []byte) error           { s.n++; s.bytes += len(f) + len(v); return nil }
func (s *countSink) Scored(m []byte, _ float64) error { s.n++; s.bytes += len(m); return nil }

// FuzzDecode feeds untrusted payloads (with a valid footer, so that the
// decoder itself is exercised) to Decode: it must never panic, and the
// memory it allocates must stay within a small multiple of the input
// plus the decompression budget.
func FuzzDecode(f *testing.F) {
	seeds := [][]byte{
		{TypeString, 0x05, 'h', 'e', 'l', 'l', 'o'},
		{TypeString, 0xC3, 0x04, 0x08, 0x01, 'a', 'b', 0xE0, 0x00, 0x01},
		{TypeSetIntset, 0x0C, 0x02, 0, 0, 0, 0x02, 0, 0, 0, 0x01, 0, 0x02, 0},
		{TypeListQuicklist2, 0x01, 0x02, 0x0B, 0x0B, 0, 0, 0, 0x01, 0, 0x81, 'a', 0x02, 0xFF},
		{TypeHashZipmap, 0x08, 0x01, 0x01, 'f', 0x01, 0x00, 'v', 0xFF, 0xFF},
		{TypeZSet, 0x01, 0x01, 'm', 0x03, '1', '.', '5'},
	}
	lp := NewListpack(nil)
	for _, e := range []string{"a", "1", "b", "-2.5", "c", "9999999999"} {
		lp.Append([]byte(e))
	}
	seeds = append(seeds, append([]byte{TypeZSetListpack}, append(AppendLen(nil, uint64(lp.Size())), lp.Bytes()...)...))
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p := finish(body)
		if !Verify(p) {
			t.Fatal("footer does not verify")
		}
		const budget = 1 << 20
		before := allocated()
		var s countSink
		err := Decode(p, Limits{MaxBytes: budget}, &s)
		if d := allocated() - before; d > uint64(64*len(p))+2*budget+64<<10 {
			t.Fatalf("%d bytes allocated for a %d-byte payload", d, len(p))
		}
		if err == nil && s.n == 0 {
			t.Fatal("a value with no element decoded")
		}
	})
}
