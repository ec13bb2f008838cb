package collection

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"
)

// hashModel checks h against a map after every operation.
func checkHash(t testing.TB, h *Hash, model map[string]string) {
	t.Helper()
	if h.Len() != len(model) {
		t.Fatalf("Len = %d, want %d", h.Len(), len(model))
	}
	for k, v := range model {
		got, ok := h.Get([]byte(k))
		if !ok || string(got) != v {
			t.Fatalf("Get(%q) = %q, %v; want %q", k, got, ok, v)
		}
	}
	seen := map[string]bool{}
	h.Each(func(f, v []byte) {
		if seen[string(f)] {
			t.Fatalf("Each: %q twice", f)
		}
		seen[string(f)] = true
		if model[string(f)] != string(v) {
			t.Fatalf("Each: %q = %q, want %q", f, v, model[string(f)])
		}
	})
	if len(seen) != len(model) {
		t.Fatalf("Each visited %d, want %d", len(seen), len(model))
	}
	if h.table {
		if len(h.keys) != len(h.vals) {
			t.Fatalf("keys %d, vals %d", len(h.keys), len(h.vals))
		}
		checkIndex(t, &h.idx, h.keys)
		mem := 0
		for i := range h.keys {
			mem += strMem(len(h.keys[i])) + strMem(len(h.vals[i]))
		}
		if mem != h.strMem {
			t.Fatalf("strMem = %d, want %d", h.strMem, mem)
		}
	}
}

// checkIndex verifies that every key is found at its position and that
// the index holds nothing else.
func checkIndex(t testing.TB, x *index, keys []string) {
	t.Helper()
	used := 0
	for _, s := range x.slots {
		if s != 0 {
			used++
		}
	}
	if used != len(keys) {
		t.Fatalf("index has %d slots used, %d keys", used, len(keys))
	}
	if len(keys)*4 > len(x.slots)*3 {
		t.Fatalf("index over 3/4 full: %d keys in %d slots", len(keys), len(x.slots))
	}
	for i, k := range keys {
		if p := x.find(keys, k); p != i {
			t.Fatalf("find(%q) = %d, want %d", k, p, i)
		}
	}
}

func TestHashOpsAgainstModel(t *testing.T) {
	for _, lim := range []Limits{
		DefaultLimits(),
		{HashMaxListpackEntries: 8, HashMaxListpackValue: 6},
		{HashMaxListpackEntries: 0, HashMaxListpackValue: 64},
	} {
		t.Run(fmt.Sprintf("entries=%d,value=%d", lim.HashMaxListpackEntries, lim.HashMaxListpackValue), func(t *testing.T) {
			h := NewHash()
			model := map[string]string{}
			r := rand.New(rand.NewPCG(1, 2))
			for i := 0; i < 4000; i++ {
				k := strconv.Itoa(r.IntN(300))
				switch r.IntN(4) {
				case 0, 1:
					v := string(bytes.Repeat([]byte{'v'}, r.IntN(10)))
					_, had := model[k]
					if created := h.Set([]byte(k), []byte(v), &lim); created == had {
						t.Fatalf("Set(%q) created = %v, had %v", k, created, had)
					}
					model[k] = v
				case 2:
					_, had := model[k]
					if h.Delete([]byte(k)) != had {
						t.Fatalf("Delete(%q) != %v", k, had)
					}
					delete(model, k)
				case 3:
					_, had := model[k]
					if h.Exists([]byte(k)) != had {
						t.Fatalf("Exists(%q) != %v", k, had)
					}
				}
				if i%97 == 0 {
					checkHash(t, h, model)
				}
			}
			checkHash(t, h, model)
			c := h.Copy().(*Hash)
			checkHash(t, c, model)
			if c.MemUsage() != h.MemUsage() && c.Encoding() == "listpack" {
				t.Fatalf("copy MemUsage %d != %d", c.MemUsage(), h.MemUsage())
			}
		})
	}
}

func TestHashEncodingThresholds(t *testing.T) {
	lim := Limits{HashMaxListpackEntries: 3, HashMaxListpackValue: 4}
	h := NewHash()
	for i, f := range []string{"a", "b", "c"} {
		h.Set([]byte(f), []byte(strconv.Itoa(i)), &lim)
	}
	if h.Encoding() != "listpack" {
		t.Fatalf("3 fields: %s", h.Encoding())
	}
	h.Set([]byte("d"), []byte("3"), &lim)
	if h.Encoding() != "hashtable" {
		t.Fatalf("4 fields: %s", h.Encoding())
	}
	h.Delete([]byte("a"))
	h.Delete([]byte("b"))
	if h.Encoding() != "hashtable" {
		t.Fatal("a hashtable went back to listpack")
	}
	h = NewHash()
	h.Set([]byte("abcd"), []byte("1234"), &lim)
	if h.Encoding() != "listpack" {
		t.Fatalf("4-byte field and value: %s", h.Encoding())
	}
	h.Set([]byte("x"), []byte("12345"), &lim)
	if h.Encoding() != "hashtable" {
		t.Fatalf("5-byte value: %s", h.Encoding())
	}
	h = NewHash()
	h.PrepareSet([][]byte{[]byte("a"), []byte("1"), []byte("bbbbb"), []byte("2")}, &lim)
	if h.Encoding() != "hashtable" {
		t.Fatalf("PrepareSet with a long field: %s", h.Encoding())
	}
	// Listpack order is insertion order, kept through updates and deletes.
	h = NewHash()
	lim = DefaultLimits()
	for _, f := range []string{"z", "y", "x", "w"} {
		h.Set([]byte(f), []byte(f), &lim)
	}
	h.Set([]byte("y"), []byte("a much longer value than before"), &lim)
	h.Delete([]byte("x"))
	var order []string
	h.Each(func(f, v []byte) { order = append(order, string(f)+"="+string(v)) })
	if want := []string{"z=z", "y=a much longer value than before", "w=w"}; !slices.Equal(order, want) {
		t.Fatalf("order %q, want %q", order, want)
	}
}

func TestListpackLongEntries(t *testing.T) {
	// Entries longer than 127 bytes take multi-byte length prefixes.
	lim := Limits{HashMaxListpackEntries: 100, HashMaxListpackValue: 1 << 20}
	h := NewHash()
	model := map[string]string{}
	for i := 0; i < 50; i++ {
		k := string(bytes.Repeat([]byte{byte('a' + i%26)}, 100+i*50))
		v := string(bytes.Repeat([]byte{'v'}, i*300))
		h.Set([]byte(k), []byte(v), &lim)
		model[k] = v
	}
	if h.Encoding() != "listpack" {
		t.Fatal(h.Encoding())
	}
	checkHash(t, h, model)
	for k := range model {
		if len(k)%100 == 0 {
			h.Delete([]byte(k))
			delete(model, k)
		}
	}
	checkHash(t, h, model)
}

func checkSet(t testing.TB, s *Set, model map[string]bool) {
	t.Helper()
	if s.Len() != len(model) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(model))
	}
	for m := range model {
		if !s.Has([]byte(m)) {
			t.Fatalf("Has(%q) = false", m)
		}
		if v, ok := ParseInt([]byte(m)); ok && !s.HasInt(v) {
			t.Fatalf("HasInt(%d) = false", v)
		}
	}
	seen := map[string]bool{}
	for i := range s.Len() {
		m := string(s.AppendMember(nil, i))
		if seen[m] || !model[m] {
			t.Fatalf("member %d = %q: duplicate or unknown", i, m)
		}
		seen[m] = true
	}
	if s.IsIntset() {
		if !slices.IsSorted(s.ints) {
			t.Fatal("intset not sorted")
		}
	} else {
		checkIndex(t, &s.idx, s.keys)
	}
}

func TestSetOpsAgainstModel(t *testing.T) {
	for _, lim := range []Limits{DefaultLimits(), {SetMaxIntsetEntries: 16}} {
		for _, ints := range []bool{true, false} {
			t.Run(fmt.Sprintf("intset=%d,ints=%v", lim.SetMaxIntsetEntries, ints), func(t *testing.T) {
				r := rand.New(rand.NewPCG(3, 4))
				member := func() string {
					if ints || r.IntN(50) > 0 {
						return strconv.Itoa(r.IntN(400) - 200)
					}
					return "m" + strconv.Itoa(r.IntN(400))
				}
				s := NewSetFor([]byte("1"))
				model := map[string]bool{}
				for i := 0; i < 5000; i++ {
					m := member()
					switch r.IntN(5) {
					case 0, 1:
						if s.Add([]byte(m), &lim) == model[m] {
							t.Fatalf("Add(%q) wrong", m)
						}
						model[m] = true
					case 2:
						if s.Remove([]byte(m)) != model[m] {
							t.Fatalf("Remove(%q) wrong", m)
						}
						delete(model, m)
					case 3:
						if s.Len() > 0 {
							i := r.IntN(s.Len())
							delete(model, string(s.AppendMember(nil, i)))
							s.RemoveAt(i)
						}
					case 4:
						if s.Len() > 3 {
							pos := SamplePositions(s.Len(), 3)
							for _, p := range pos {
								delete(model, string(s.AppendMember(nil, p)))
							}
							s.RemovePositions(pos)
						}
					}
					if i%101 == 0 {
						checkSet(t, s, model)
					}
				}
				checkSet(t, s, model)
				checkSet(t, s.Copy().(*Set), model)
			})
		}
	}
}

func TestSetEncodings(t *testing.T) {
	def := DefaultLimits()
	lim := Limits{SetMaxIntsetEntries: 4}
	s := NewSetFor([]byte("1"))
	for _, m := range []string{"3", "1", "2", "-5"} {
		s.Add([]byte(m), &lim)
	}
	if s.Encoding() != "intset" {
		t.Fatal(s.Encoding())
	}
	var got []string
	for i := range s.Len() {
		got = append(got, string(s.AppendMember(nil, i)))
	}
	if want := []string{"-5", "1", "2", "3"}; !slices.Equal(got, want) {
		t.Fatalf("intset order %q", got)
	}
	s.Add([]byte("7"), &lim)
	if s.Encoding() != "hashtable" {
		t.Fatalf("5 ints over a limit of 4: %s", s.Encoding())
	}
	for _, m := range []string{"a", "01", "-0", "+1", " 1", "9223372036854775808"} {
		if NewSetFor([]byte(m)).Encoding() != "hashtable" {
			t.Fatalf("NewSetFor(%q) is an intset", m)
		}
		s := NewSetFor([]byte("5"))
		s.Add([]byte("5"), &def)
		s.Add([]byte(m), &def)
		if s.Encoding() != "hashtable" || !s.Has([]byte(m)) || !s.Has([]byte("5")) || s.Len() != 2 {
			t.Fatalf("adding %q to an intset", m)
		}
	}
	s = NewSetFor([]byte("-9223372036854775808"))
	s.Add([]byte("-9223372036854775808"), &def)
	if s.Encoding() != "intset" || !s.HasInt(-1<<63) {
		t.Fatal("LLONG_MIN is an integer")
	}
	if s.Has([]byte("x")) || s.Remove([]byte("x")) || s.Remove([]byte("01")) {
		t.Fatal("an intset has a non-integer")
	}
}

func TestSamplePositions(t *testing.T) {
	for _, c := range [][2]int{{10, 10}, {10, 20}, {10, 9}, {10, 3}, {1000, 5}, {1000, 999}, {7, 0}} {
		n, k := c[0], c[1]
		p := SamplePositions(n, k)
		if len(p) != min(n, k) {
			t.Fatalf("SamplePositions(%d, %d) gave %d", n, k, len(p))
		}
		seen := map[int]bool{}
		for _, i := range p {
			if i < 0 || i >= n || seen[i] {
				t.Fatalf("SamplePositions(%d, %d): bad or repeated %d", n, k, i)
			}
			seen[i] = true
		}
	}
	// Each position is chosen about equally often (chi-square, df = 9).
	for _, k := range []int{2, 8} {
		counts := make([]float64, 10)
		const rounds = 20000
		for range rounds {
			for _, i := range SamplePositions(10, k) {
				counts[i]++
			}
		}
		exp := float64(rounds*k) / 10
		chi := 0.0
		for _, c := range counts {
			chi += (c - exp) * (c - exp) / exp
		}
		if chi > 40 {
			t.Fatalf("k=%d: chi-square %.1f over 40: %v", k, chi, counts)
		}
	}
}

// TestScanGuarantee: an element present for the whole scan is returned,
// however many elements are added and removed between the calls.
func TestScanGuarantee(t *testing.T) {
	lim := Limits{HashMaxListpackEntries: 0, HashMaxListpackValue: 64, SetMaxIntsetEntries: 0}
	r := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 50; round++ {
		s := NewSetFor([]byte("x"))
		h := NewHash()
		for i := 0; i < 500; i++ {
			s.Add([]byte(strconv.Itoa(i)), &lim)
			h.Set([]byte(strconv.Itoa(i)), []byte("v"), &lim)
		}
		seenS, seenH := map[string]bool{}, map[string]bool{}
		var cs, ch uint64
		for first := true; first || cs != 0 || ch != 0; first = false {
			if first || cs != 0 {
				cs = s.Scan(cs, 1+r.IntN(20), func(m []byte) { seenS[string(m)] = true })
			}
			if first || ch != 0 {
				ch = h.Scan(ch, 1+r.IntN(20), func(f, _ []byte) { seenH[string(f)] = true })
			}
			// churn: remove and add elements >= 100 (0..99 stay put)
			for j := 0; j < 30; j++ {
				k := []byte(strconv.Itoa(100 + r.IntN(1000)))
				if r.IntN(2) == 0 {
					s.Remove(k)
					h.Delete(k)
				} else {
					s.Add(k, &lim)
					h.Set(k, []byte("w"), &lim)
				}
			}
		}
		for i := 0; i < 100; i++ {
			k := strconv.Itoa(i)
			if !seenS[k] || !seenH[k] {
				t.Fatalf("round %d: %s missing from the scan (set %v, hash %v)", round, k, seenS[k], seenH[k])
			}
		}
	}
}

func TestIndexShrinksAndGrows(t *testing.T) {
	s := NewTableSet(0)
	lim := DefaultLimits()
	for i := 0; i < 100000; i++ {
		s.Add([]byte("k"+strconv.Itoa(i)), &lim)
	}
	big := s.MemUsage()
	for i := 0; i < 99990; i++ {
		s.Remove([]byte("k" + strconv.Itoa(i)))
	}
	checkIndex(t, &s.idx, s.keys)
	if small := s.MemUsage(); small*50 > big {
		t.Fatalf("MemUsage %d after removing almost everything (was %d)", small, big)
	}
	var got []string
	for i := range s.Len() {
		got = append(got, s.Member(i))
	}
	sort.Strings(got)
	if len(got) != 10 || got[0] != "k99990" {
		t.Fatalf("left %q", got)
	}
}

// FuzzHash runs a sequence of operations decoded from the input against
// a hash and a map.
func FuzzHash(f *testing.F) {
	f.Add([]byte("\x00a\x01b\x02a\x00c"), uint8(2), uint8(3))
	f.Add(bytes.Repeat([]byte{0, 1, 2, 3, 4, 5, 6, 7}, 40), uint8(0), uint8(1))
	f.Fuzz(func(t *testing.T, ops []byte, entries, value uint8) {
		lim := Limits{HashMaxListpackEntries: int64(entries), HashMaxListpackValue: int64(value)}
		h := NewHash()
		model := map[string]string{}
		for i := 0; i+1 < len(ops); i += 2 {
			k := string(ops[i+1 : min(len(ops), i+1+int(ops[i+1]%3))])
			v := string(bytes.Repeat([]byte{ops[i]}, int(ops[i]%200)))
			switch ops[i] % 3 {
			case 0, 1:
				h.Set([]byte(k), []byte(v), &lim)
				model[k] = v
			case 2:
				if h.Delete([]byte(k)) != hasKey(model, k) {
					t.Fatalf("Delete(%q)", k)
				}
				delete(model, k)
			}
		}
		checkHash(t, h, model)
	})
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// FuzzSet runs a sequence of operations decoded from the input against a
// set and a map.
func FuzzSet(f *testing.F) {
	f.Add([]byte("1 2 3 -4 a 5"), uint8(4))
	f.Add([]byte("01 -0 9223372036854775808 -9223372036854775808 x"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, intset uint8) {
		lim := Limits{SetMaxIntsetEntries: int64(intset)}
		words := bytes.Fields(data)
		if len(words) == 0 {
			return
		}
		s := NewSetFor(words[0])
		model := map[string]bool{}
		for i, w := range words {
			if i%4 == 3 {
				if s.Remove(w) != model[string(w)] {
					t.Fatalf("Remove(%q)", w)
				}
				delete(model, string(w))
				continue
			}
			if s.Add(w, &lim) == model[string(w)] {
				t.Fatalf("Add(%q)", w)
			}
			model[string(w)] = true
		}
		checkSet(t, s, model)
	})
}

func TestSnapshotRoundTrip(t *testing.T) {
	lim := Limits{HashMaxListpackEntries: 4, HashMaxListpackValue: 8, SetMaxIntsetEntries: 4}
	big := DefaultLimits()
	for _, n := range []int{1, 3, 4, 5, 50} {
		h := NewHash()
		hm := map[string]string{}
		s := NewIntSet()
		sm := map[string]bool{}
		for i := range n {
			k, v := "f"+strconv.Itoa(i), strconv.Itoa(i*i)
			h.Set([]byte(k), []byte(v), &big)
			hm[k] = v
			s.AddInt(int64(i*3), &big)
			sm[strconv.Itoa(i*3)] = true
		}
		h2, err := DecodeHash(h.AppendSnapshot(nil), &lim)
		if err != nil {
			t.Fatal(err)
		}
		checkHash(t, h2, hm)
		// The loaded encoding follows the limits in force, as in Redis.
		if want := map[bool]string{true: "listpack", false: "hashtable"}[n <= 4]; h2.Encoding() != want {
			t.Fatalf("%d fields loaded as %s, want %s", n, h2.Encoding(), want)
		}
		s2, err := DecodeSet(s.AppendSnapshot(nil), &lim)
		if err != nil {
			t.Fatal(err)
		}
		checkSet(t, s2, sm)
		if want := map[bool]string{true: "intset", false: "hashtable"}[n <= 4]; s2.Encoding() != want {
			t.Fatalf("%d ints loaded as %s, want %s", n, s2.Encoding(), want)
		}
		// A table of few small elements loads back small.
		h.Set([]byte("long"), bytes.Repeat([]byte{'x'}, 100), &big)
		h.Delete([]byte("long"))
		if h3, err := DecodeHash(h.AppendSnapshot(nil), &big); err != nil || h3.Encoding() != "listpack" {
			t.Fatalf("reloaded hash: %v %v", h3, err)
		}
		s.Add([]byte("str"), &big)
		s.Remove([]byte("str"))
		if s3, err := DecodeSet(s.AppendSnapshot(nil), &big); err != nil || s3.Encoding() != "intset" {
			t.Fatalf("reloaded set: %v %v", s3, err)
		}
	}
	for _, bad := range []string{"", "\x00", "\x01", "\x02\x01a\x01b", "\x01\x05ab", "\x01\x01a\x01bextra", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"} {
		if _, err := DecodeHash([]byte(bad), &big); err == nil {
			t.Errorf("DecodeHash(%q) accepted", bad)
		}
		if _, err := DecodeSet([]byte(bad+"\x01"), &big); err == nil && bad != "\x01" {
			t.Errorf("DecodeSet(%q) accepted", bad+"\x01")
		}
	}
	// Duplicate fields or members (a hand-made file) are refused.
	if _, err := DecodeHash([]byte("\x02\x01a\x01b\x01a\x01c"), &big); err == nil {
		t.Error("DecodeHash accepted a duplicate field")
	}
	if _, err := DecodeSet([]byte("\x02\x011\x011"), &big); err == nil {
		t.Error("DecodeSet accepted a duplicate member")
	}
}

// FuzzSnapshotDecode feeds arbitrary bytes to the decoders: they return a
// value or an error, never panic, and a value re-encodes to the same
// bytes once decoded again.
func FuzzSnapshotDecode(f *testing.F) {
	lim := Limits{HashMaxListpackEntries: 3, HashMaxListpackValue: 4, SetMaxIntsetEntries: 3}
	h := NewHash()
	s := NewIntSet()
	for i := range 5 {
		h.Set([]byte("f"+strconv.Itoa(i)), []byte(strconv.Itoa(i)), &lim)
		s.AddInt(int64(i), &lim)
	}
	f.Add(h.AppendSnapshot(nil))
	f.Add(s.AppendSnapshot(nil))
	f.Add([]byte("\x02\x01a\x01b\x01a\x01c"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if h, err := DecodeHash(data, &lim); err == nil {
			h2, err := DecodeHash(h.AppendSnapshot(nil), &lim)
			if err != nil || h2.Len() != h.Len() {
				t.Fatalf("hash does not round-trip: %v", err)
			}
		}
		if s, err := DecodeSet(data, &lim); err == nil {
			s2, err := DecodeSet(s.AppendSnapshot(nil), &lim)
			if err != nil || s2.Len() != s.Len() {
				t.Fatalf("set does not round-trip: %v", err)
			}
		}
	})
}
