package hll

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// Values Redis 7.0.15 holds after PFADD of "el:<i*step>" for i < n in
// batches of 500, then PFCOUNT (which caches the cardinality in the
// value): the count and the SHA-256 of the value GET returns.
var golden = []struct {
	n, step int
	count   uint64
	size    int
	sha     string
}{
	{10, 1, 10, 48, "aec1d29682abfa65055e38ae312adba8551838295069b72627e8e8b588c46895"},
	{300, 1, 303, 692, "76938c0a6c1bc0cd4c884c9fd158bea73e338e09dbcf385124736e062a46eb74"},
	{5000, 7, 4997, 12304, "1e04931c101822db9eae4c86d61acc40c5a122f5d8d3807685519b307dd8a17f"},
	{100000, 13, 100543, 12304, "335fc3b2eefdb022157f83a7ae8a1534f1c71ea39c7caf38fa98acea8b852ce5"},
}

func addAll(t testing.TB, b []byte, els [][]byte) []byte {
	t.Helper()
	changed := false
	for _, e := range els {
		nb, r := Add(b, e, DefaultSparseMaxBytes)
		if r < 0 {
			t.Fatalf("Add(%q) reports a corrupt value", e)
		}
		b = nb
		changed = changed || r == 1
	}
	if changed {
		Invalidate(b)
	}
	return b
}

func TestGoldenRedisValues(t *testing.T) {
	for _, g := range golden {
		b := New()
		Invalidate(b)
		for i := 0; i < g.n; i += 500 {
			var batch [][]byte
			for j := i; j < min(i+500, g.n); j++ {
				batch = append(batch, []byte("el:"+strconv.Itoa(j*g.step)))
			}
			b = addAll(t, b, batch)
		}
		if !Valid(b) {
			t.Fatalf("n=%d: invalid value", g.n)
		}
		if _, ok := CachedCard(b); ok {
			t.Fatalf("n=%d: cache valid after PFADD", g.n)
		}
		c, err := Count(b)
		if err != nil {
			t.Fatal(err)
		}
		SetCachedCard(b, c)
		sum := sha256.Sum256(b)
		if c != g.count || len(b) != g.size || hex.EncodeToString(sum[:]) != g.sha {
			t.Errorf("n=%d: count %d size %d sha %x; Redis: %d %d %s", g.n, c, len(b), sum, g.count, g.size, g.sha)
		}
	}
}

// Sparse and dense values fed the same elements hold the same registers
// and count the same, at every size.
func TestSparseDenseAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		s := New()
		d, err := ToDense(New())
		if err != nil {
			t.Fatal(err)
		}
		n := rng.IntN(600)
		for i := 0; i < n; i++ {
			e := []byte(strconv.FormatUint(rng.Uint64(), 36))
			var r1, r2 int
			s, r1 = Add(s, e, 1<<20) // never promoted by size
			d, r2 = Add(d, e, 1<<20)
			if r1 != r2 {
				t.Fatalf("round %d: sparse reports %d, dense %d", round, r1, r2)
			}
		}
		if IsDense(s) {
			t.Fatalf("round %d: promoted", round)
		}
		var rs, rd [Registers]uint8
		if err := Merge(&rs, s); err != nil {
			t.Fatal(err)
		}
		if err := Merge(&rd, d); err != nil {
			t.Fatal(err)
		}
		if rs != rd {
			t.Fatalf("round %d: registers differ", round)
		}
		cs, err1 := Count(s)
		cd, err2 := Count(d)
		if err1 != nil || err2 != nil || cs != cd || cs != CountRegisters(&rs) {
			t.Fatalf("round %d: counts %d %d %d (%v %v)", round, cs, cd, CountRegisters(&rs), err1, err2)
		}
		sd, err := ToDense(s)
		if err != nil || !bytes.Equal(sd[HdrSize:], d[HdrSize:]) {
			t.Fatalf("round %d: ToDense differs (%v)", round, err)
		}
	}
}

// A register value above 32 cannot be sparse: the value turns dense.
func TestPromoteOnBigRegister(t *testing.T) {
	b := addAll(t, New(), [][]byte{[]byte("a"), []byte("b")})
	nb, r := SetRegister(b, 100, 40, DefaultSparseMaxBytes)
	if r != 1 || !IsDense(nb) || len(nb) != DenseSize {
		t.Fatalf("SetRegister 40: r=%d dense=%v len=%d", r, IsDense(nb), len(nb))
	}
	var regs [Registers]uint8
	if err := Merge(&regs, nb); err != nil || regs[100] != 40 {
		t.Fatalf("register 100 = %d (%v)", regs[100], err)
	}
	// The last register (its bits end the value) round-trips.
	nb, _ = SetRegister(nb, Registers-1, 63, DefaultSparseMaxBytes)
	regs = [Registers]uint8{}
	_ = Merge(&regs, nb)
	if regs[Registers-1] != 63 || regs[Registers-2] != 0 {
		t.Fatalf("last registers %d %d", regs[Registers-2], regs[Registers-1])
	}
}

// The estimate stays within a few standard errors (1.04/sqrt(m)).
func TestEstimateError(t *testing.T) {
	b := New()
	rel := 1.04 / math.Sqrt(Registers)
	next := 10
	for i := 1; i <= 200000; i++ {
		var e [8]byte
		for j := range e {
			e[j] = byte(uint64(i) * 0x9e3779b97f4a7c15 >> (8 * j))
		}
		b, _ = Add(b, e[:], DefaultSparseMaxBytes)
		if i == next {
			c, err := Count(b)
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(float64(c) - float64(i)); d > math.Ceil(6*rel*float64(i)) && !(i == 10 && d <= 1) {
				t.Errorf("n=%d: estimate %d", i, c)
			}
			next *= 10
		}
	}
	if !IsDense(b) {
		t.Fatal("200000 elements still sparse")
	}
}

func TestMurmurHash64A(t *testing.T) {
	// Every tail length, against the word-wise definition.
	data := []byte("The quick brown fox jumps over the lazy dog")
	seen := map[uint64]bool{}
	for n := 0; n <= len(data); n++ {
		h := MurmurHash64A(data[:n], seed)
		if seen[h] {
			t.Fatalf("collision at length %d", n)
		}
		seen[h] = true
	}
	if h := MurmurHash64A(nil, 0); h != 0 {
		t.Fatalf("hash of nothing with seed 0 = %#x", h)
	}
}

func TestValid(t *testing.T) {
	d, _ := ToDense(New())
	for _, c := range []struct {
		b  []byte
		ok bool
	}{
		{New(), true},
		{d, true},
		{d[:len(d)-1], false},
		{append(append([]byte(nil), d...), 0), false},
		{[]byte("HYLL"), false},
		{[]byte("HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), false},
		{[]byte("HYLX\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), false},
		{[]byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), true},
	} {
		if Valid(c.b) != c.ok {
			t.Errorf("Valid(%q...) = %v", c.b[:min(len(c.b), 8)], !c.ok)
		}
	}
}

// FuzzCorrupt feeds arbitrary bytes after a valid header: reading,
// merging, counting and adding must never panic, and the readers must
// agree on whether the registers decode.
func FuzzCorrupt(f *testing.F) {
	f.Add([]byte{0x7f, 0xff})
	f.Add([]byte{0x7f})
	f.Add([]byte{0x80, 0x7f, 0xfe, 0x00})
	f.Add(New()[HdrSize:])
	f.Add(addAll(f, New(), [][]byte{[]byte("a"), []byte("b"), []byte("c")})[HdrSize:])
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, enc := range []byte{Sparse, Dense} {
			b := append([]byte("HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80"), body...)
			b[4] = enc
			if !Valid(b) {
				continue
			}
			var regs [Registers]uint8
			errMerge := Merge(&regs, b)
			_, errCount := Count(b)
			_, errDense := ToDense(b)
			if enc == Sparse {
				// Count and Merge/ToDense differ on purpose only where
				// Redis's do: a VAL run overflowing the registers stops
				// Merge/ToDense, while Count sums it up.
				if (errMerge == nil) != (errDense == nil) {
					t.Fatalf("merge %v, todense %v", errMerge, errDense)
				}
				if errMerge == nil && errCount != nil {
					t.Fatalf("merge ok, count %v", errCount)
				}
			}
			for i := 0; i < 20 && len(body) > 0; i++ {
				e := body[:min(i, len(body))]
				nb, r := Add(b, e, 300)
				if r >= 0 {
					b = nb
				}
			}
		}
	})
}

// Redis's PFSELFTEST passes (ten million elements: skipped with -short).
func TestSelfTest(t *testing.T) {
	if testing.Short() {
		t.Skip("ten million elements")
	}
	if err := SelfTest(DefaultSparseMaxBytes); err != nil {
		t.Fatal(err)
	}
}

func TestDecode(t *testing.T) {
	b := New()
	b, _ = SetRegister(b, 5, 3, DefaultSparseMaxBytes)
	if got := Decode(b); got != "z:5 v:3,1 Z:16378" {
		t.Fatalf("Decode = %q", got)
	}
}
