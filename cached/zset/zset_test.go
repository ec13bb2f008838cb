package zset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// model is the obvious sorted set: a map, sorted on demand.
type model map[string]float64

func (m model) sorted() []Entry {
	es := make([]Entry, 0, len(m))
	for k, v := range m {
		es = append(es, Entry{k, v})
	}
	SortEntries(es)
	return es
}

// check verifies z's invariants and that it holds exactly m.
func check(t testing.TB, z *ZSet, m model) {
	t.Helper()
	want := m.sorted()
	var got []Entry
	z.ForEach(func(mb string, s float64) bool { got = append(got, Entry{mb, s}); return true })
	if len(got) != len(want) || z.Len() != len(want) {
		t.Fatalf("len: got %d (Len %d), want %d", len(got), z.Len(), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("entry %d: got %v, want %v", i, got[i], want[i])
		}
	}
	mem := allocSize(zsetSize)
	if sl := z.sl; sl != nil {
		used := 0
		for _, v := range sl.index.slots {
			if v != 0 {
				used++
			}
		}
		if sl.length != len(want) || used != len(want) || len(sl.nodes) != len(want) {
			t.Fatalf("skiplist sizes: length %d index %d nodes %d, want %d", sl.length, used, len(sl.nodes), len(want))
		}
		for i, n := range sl.nodes {
			if int(n.idx) != i || sl.find(n.member) != n {
				t.Fatalf("node %q: idx %d at %d, found %p", n.member, n.idx, i, sl.find(n.member))
			}
		}
		// Walk every level: spans must add up to ranks, links be ordered,
		// backward links mirror level 0.
		rankOf := map[*node]int{}
		r := 0
		var prev *node
		for x := sl.first(); x != nil; x = x.lvl(0).forward {
			r++
			rankOf[x] = r
			if x.backward != prev {
				t.Fatalf("backward of %q", x.member)
			}
			prev = x
			mem += nodeMem(int(x.nlevel)) + allocSize(len(x.member))
		}
		if sl.tail != prev {
			t.Fatal("tail")
		}
		for i := 0; i < maxLevel; i++ {
			x, xr := sl.header, 0
			if i >= sl.level {
				if sl.header.lvl(i).forward != nil {
					t.Fatalf("level %d above %d is linked", i, sl.level)
				}
				continue
			}
			for x != nil {
				f := x.lvl(i).forward
				if f == nil {
					if x.lvl(i).span != sl.length-xr {
						t.Fatalf("level %d: end span %d, want %d", i, x.lvl(i).span, sl.length-xr)
					}
					break
				}
				if rankOf[f]-xr != x.lvl(i).span {
					t.Fatalf("level %d: span %d, want %d", i, x.lvl(i).span, rankOf[f]-xr)
				}
				x, xr = f, rankOf[f]
			}
		}
		if sl.level > 1 && sl.header.lvl(sl.level-1).forward == nil {
			t.Fatal("empty top level")
		}
		mem += headerMem + sl.index.mem() + allocSize(cap(sl.nodes)*ptrSize)
	} else {
		mem += allocSize(cap(z.lp))
		n := 0
		for off := 0; off < len(z.lp); n++ {
			_, _, next := lpAt(z.lp, off)
			if lpPrev(z.lp, next) != off {
				t.Fatalf("backlen of the entry at %d leads to %d", off, lpPrev(z.lp, next))
			}
			off = next
		}
		if n != z.lpN {
			t.Fatalf("lpN %d, %d entries", z.lpN, n)
		}
		if n > 0 && z.lpLast().Member() != want[len(want)-1].Member {
			t.Fatal("lpLast")
		}
		if cap(z.lp) != allocSize(cap(z.lp)) {
			t.Fatalf("listpack capacity %d is not a size class", cap(z.lp))
		}
	}
	if mem != z.MemUsage() {
		t.Fatalf("MemUsage %d, recomputed %d (%s, %d members)", z.MemUsage(), mem, z.Encoding(), z.Len())
	}
}

func modelRank(es []Entry, member string) int {
	for i, e := range es {
		if e.Member == member {
			return i
		}
	}
	return -1
}

func sameScores(m model) bool {
	first, have := 0.0, false
	for _, v := range m {
		if have && v != first {
			return false
		}
		first, have = v, true
	}
	return true
}

// runOps interprets data as operations on a set and on the model.
func runOps(t testing.TB, data []byte) {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	lim := Limits{MaxListpackEntries: int64(next() % 12), MaxListpackValue: int64(next() % 6)}
	z := New(next()%2 == 0, 0)
	m := model{}
	members := []string{"", "a", "b", "ab", "abc", "b\x00", "zz", "longer-member", "é", "0", "1", "-"}
	member := func() string { return members[int(next())%len(members)] }
	scores := []float64{0, 1, -1, 2, 2.5, math.Inf(1), math.Inf(-1), 1e300, math.Copysign(0, -1), 3}
	score := func() float64 { return scores[int(next())%len(scores)] }
	scoreRange := func() ScoreRange {
		return ScoreRange{Min: score(), Max: score(), MinEx: next()%2 == 0, MaxEx: next()%2 == 0}
	}
	lexBound := func() LexBound {
		switch next() % 4 {
		case 0:
			return LexBound{Inf: -1, Ex: true}
		case 1:
			return LexBound{Inf: 1, Ex: true}
		}
		return LexBound{Value: member(), Ex: next()%2 == 0}
	}
	for len(data) > 0 {
		op := next() % 16
		es := m.sorted()
		switch op {
		case 0, 1, 2: // ADD with flags
			mb, s := member(), score()
			flags := AddFlags(next()) & (AddIncr | AddNX | AddXX | AddGT | AddLT)
			if flags&AddNX != 0 && flags&(AddXX|AddGT|AddLT) != 0 {
				flags &^= AddNX
			}
			if flags&AddGT != 0 && flags&AddLT != 0 {
				flags &^= AddLT
			}
			res, ns := z.Add([]byte(mb), s, flags, lim)
			cur, exists := m[mb]
			want := s
			var wantRes AddResult
			switch {
			case exists && flags&AddNX != 0:
				wantRes = ResultNop
			case exists:
				if flags&AddIncr != 0 {
					want = cur + s
				}
				switch {
				case math.IsNaN(want):
					wantRes = ResultNaN
				case (flags&AddLT != 0 && want >= cur) || (flags&AddGT != 0 && want <= cur):
					wantRes = ResultNop
				case want != cur:
					wantRes = ResultUpdated
					m[mb] = want
				}
			case flags&AddXX != 0:
				wantRes = ResultNop
			default:
				wantRes = ResultAdded
				m[mb] = want
			}
			if res != wantRes || (res&(ResultAdded|ResultUpdated) != 0 && ns != want) {
				t.Fatalf("Add(%q, %v, %b): got %b %v, want %b %v", mb, s, flags, res, ns, wantRes, want)
			}
			if _, in := m[mb]; in && z.IsListpack() {
				m[mb] = lpScore(m[mb]) // a listpack keeps -0 as 0, as Redis's does
			}
		case 3:
			mb := member()
			_, exists := m[mb]
			if z.Delete([]byte(mb)) != exists {
				t.Fatalf("Delete(%q) != %v", mb, exists)
			}
			delete(m, mb)
		case 4:
			mb := member()
			rev := next()%2 == 0
			r, ok := z.Rank([]byte(mb), rev)
			want := modelRank(es, mb)
			if want >= 0 && rev {
				want = len(es) - 1 - want
			}
			if ok != (want >= 0) || (ok && r != want) {
				t.Fatalf("Rank(%q, %v) = %d %v, want %d", mb, rev, r, ok, want)
			}
			s, ok := z.Score([]byte(mb))
			if ok != (want >= 0) || (ok && s != m[mb]) {
				t.Fatalf("Score(%q) = %v %v", mb, s, ok)
			}
		case 5:
			r := int(next()%16) - 2
			p := z.ByRank(r)
			if (r >= 0 && r < len(es)) != p.Valid() || (p.Valid() && p.Member() != es[r].Member) {
				t.Fatalf("ByRank(%d)", r)
			}
		case 6, 7:
			rg := scoreRange()
			var want []Entry
			for _, e := range es {
				if rg.Contains(e.Score) {
					want = append(want, e)
				}
			}
			var got []Entry
			for p := z.FirstInRange(&rg); p.Valid() && rg.LteMax(p.Score()); p = p.Next() {
				got = append(got, Entry{p.Member(), p.Score()})
			}
			var back []Entry
			for p := z.LastInRange(&rg); p.Valid() && rg.GteMin(p.Score()); p = p.Prev() {
				back = append([]Entry{{p.Member(), p.Score()}}, back...)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(back) != fmt.Sprint(want) || z.Count(&rg) != len(want) {
				t.Fatalf("range %+v: got %v / %v / %d, want %v", rg, got, back, z.Count(&rg), want)
			}
			if op == 7 {
				if n := z.DeleteRangeByScore(&rg); n != len(want) {
					t.Fatalf("DeleteRangeByScore %+v = %d, want %d", rg, n, len(want))
				}
				for _, e := range want {
					delete(m, e.Member)
				}
			}
		case 8, 9:
			if !sameScores(m) {
				continue
			}
			rg := LexRange{Min: lexBound(), Max: lexBound()}
			var want []Entry
			for _, e := range es {
				if rg.Contains(e.Member) {
					want = append(want, e)
				}
			}
			var got []Entry
			for p := z.FirstInLexRange(&rg); p.Valid() && rg.LteMax(p.Member()); p = p.Next() {
				got = append(got, Entry{p.Member(), p.Score()})
			}
			var back []Entry
			for p := z.LastInLexRange(&rg); p.Valid() && rg.GteMin(p.Member()); p = p.Prev() {
				back = append([]Entry{{p.Member(), p.Score()}}, back...)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(back) != fmt.Sprint(want) || z.LexCount(&rg) != len(want) {
				t.Fatalf("lex range %+v: got %v / %v / %d, want %v", rg, got, back, z.LexCount(&rg), want)
			}
			if op == 9 {
				if n := z.DeleteRangeByLex(&rg); n != len(want) {
					t.Fatalf("DeleteRangeByLex = %d, want %d", n, len(want))
				}
				for _, e := range want {
					delete(m, e.Member)
				}
			}
		case 10:
			if len(es) == 0 {
				continue
			}
			a, b := int(next())%len(es), int(next())%len(es)
			if a > b {
				a, b = b, a
			}
			if n := z.DeleteRangeByRank(a, b); n != b-a+1 {
				t.Fatalf("DeleteRangeByRank(%d,%d) = %d", a, b, n)
			}
			for _, e := range es[a : b+1] {
				delete(m, e.Member)
			}
		case 11:
			if len(es) == 0 {
				continue
			}
			max := next()%2 == 0
			mb, s := z.Pop(max)
			want := es[0]
			if max {
				want = es[len(es)-1]
			}
			if mb != want.Member || s != want.Score {
				t.Fatalf("Pop(%v) = %q %v, want %v", max, mb, s, want)
			}
			delete(m, mb)
		case 12:
			z.toSkiplist()
		case 13:
			cp := z.Copy().(*ZSet)
			if cp.Encoding() != z.Encoding() {
				t.Fatal("copy changed the encoding")
			}
			check(t, cp, m)
			z = cp
		case 14:
			seen := map[string]bool{}
			cursor := uint64(0)
			for {
				cursor = z.Scan(cursor, int(next()%4)+1, func(mb string, s float64) {
					if m[mb] != s {
						t.Fatalf("scan: %q %v", mb, s)
					}
					seen[mb] = true
				})
				if cursor == 0 {
					break
				}
			}
			if len(seen) != len(m) {
				t.Fatalf("scan saw %d of %d", len(seen), len(m))
			}
		case 15:
			if len(es) > 0 {
				mb, s := z.Random()
				if v, ok := m[mb]; !ok || v != s {
					t.Fatalf("Random() = %q", mb)
				}
			}
		}
		check(t, z, m)
	}
}

func FuzzZSet(f *testing.F) {
	f.Add([]byte{3, 2, 0, 0, 1, 1, 0, 2, 2, 0, 3, 3, 0, 6, 0, 1, 0, 1, 10, 0, 1})
	f.Add([]byte{0, 0, 1, 0, 4, 5, 0, 1, 4, 3, 0, 8, 2, 0, 3, 1, 0, 9, 0, 1, 1})
	f.Add([]byte("some arbitrary longer input that exercises many operations at once 0123456789"))
	f.Fuzz(func(t *testing.T, data []byte) { runOps(t, data) })
}

func TestRandomOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		data := make([]byte, 400)
		for j := range data {
			data[j] = byte(rng.UintN(256))
		}
		runOps(t, data)
	}
}

// TestLargeSkiplist exercises deep skiplists against the model.
func TestLargeSkiplist(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	z := New(false, 0)
	m := model{}
	for i := 0; i < 5000; i++ {
		mb := fmt.Sprintf("m%d", rng.IntN(3000))
		s := float64(rng.IntN(100))
		switch rng.IntN(4) {
		case 0:
			z.Delete([]byte(mb))
			delete(m, mb)
		default:
			z.Add([]byte(mb), s, 0, DefaultLimits)
			m[mb] = s
		}
	}
	check(t, z, m)
	es := m.sorted()
	for r := 0; r < len(es); r += 7 {
		if p := z.ByRank(r); p.Member() != es[r].Member {
			t.Fatalf("rank %d", r)
		}
		if got, _ := z.Rank([]byte(es[r].Member), false); got != r {
			t.Fatalf("Rank(%s) = %d, want %d", es[r].Member, got, r)
		}
	}
	rg := ScoreRange{Min: 10, Max: 20, MaxEx: true}
	n := z.DeleteRangeByScore(&rg)
	for k, v := range m {
		if rg.Contains(v) {
			delete(m, k)
			n--
		}
	}
	if n != 0 {
		t.Fatal("DeleteRangeByScore count")
	}
	check(t, z, m)
	for z.Len() > 10 {
		mb, _ := z.Pop(z.Len()%2 == 0)
		delete(m, mb)
	}
	check(t, z, m)
}

func TestStrtod(t *testing.T) {
	for _, c := range []struct {
		in     string
		f      float64
		n      int
		erange bool
	}{
		{"1", 1, 1, false},
		{" 1.5x", 1.5, 4, false},
		{"-.5", -0.5, 3, false},
		{"5.", 5, 2, false},
		{"1e", 1, 1, false},
		{"1e+", 1, 1, false},
		{"1e+2", 100, 4, false},
		{"0x10", 16, 4, false},
		{"0x", 0, 1, false},
		{"0x.8", 0.5, 4, false},
		{"0x1p-1", 0.5, 6, false},
		{"inf", math.Inf(1), 3, false},
		{"-Infinity", math.Inf(-1), 9, false},
		{"infinit", math.Inf(1), 3, false},
		{"1e400", math.Inf(1), 5, true},
		{"1e-400", 0, 6, true},
		{"0e-400", 0, 6, false},
		{"4e-320", 4e-320, 6, false},
		{"", 0, 0, false},
		{"+", 0, 0, false},
		{".", 0, 0, false},
		{"abc", 0, 0, false},
		{"1_000", 1, 1, false},
	} {
		f, n, erange := Strtod([]byte(c.in))
		if f != c.f || n != c.n || erange != c.erange {
			t.Errorf("Strtod(%q) = %v %d %v, want %v %d %v", c.in, f, n, erange, c.f, c.n, c.erange)
		}
	}
	if f, n, _ := Strtod([]byte("nan(abc)x")); !math.IsNaN(f) || n != 8 {
		t.Errorf("nan(abc): %v %d", f, n)
	}
	for in, ok := range map[string]bool{"1": true, " 1": false, "1 ": false, "nan": false, "inf": true, "1e400": false, "": false, "0x1A": true} {
		if _, got := ParseScore([]byte(in)); got != ok {
			t.Errorf("ParseScore(%q) = %v", in, got)
		}
	}
}

func TestParseRanges(t *testing.T) {
	for _, c := range []struct {
		min, max string
		ok       bool
		want     ScoreRange
	}{
		{"1", "2", true, ScoreRange{Min: 1, Max: 2}},
		{"(1", "(2", true, ScoreRange{Min: 1, Max: 2, MinEx: true, MaxEx: true}},
		{"-inf", "+inf", true, ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}},
		{"", "(", true, ScoreRange{MaxEx: true}},
		{" 1", "2", true, ScoreRange{Min: 1, Max: 2}},
		{"1\x00x", "2", true, ScoreRange{Min: 1, Max: 2}},
		{"a", "2", false, ScoreRange{}},
		{"nan", "2", false, ScoreRange{}},
		{"1", "2 ", false, ScoreRange{}},
	} {
		r, ok := ParseScoreRange([]byte(c.min), []byte(c.max))
		if ok != c.ok || (ok && r != c.want) {
			t.Errorf("ParseScoreRange(%q, %q) = %+v %v", c.min, c.max, r, ok)
		}
	}
	for _, c := range []struct {
		min, max string
		ok       bool
	}{
		{"-", "+", true}, {"[a", "(b", true}, {"a", "b", false}, {"", "+", false}, {"-x", "+", false}, {"[", "(", true},
	} {
		if _, ok := ParseLexRange([]byte(c.min), []byte(c.max)); ok != c.ok {
			t.Errorf("ParseLexRange(%q, %q) = %v", c.min, c.max, ok)
		}
	}
	r, _ := ParseLexRange([]byte("-"), []byte("-"))
	if !r.empty() {
		t.Error("- - must be empty")
	}
	r, _ = ParseLexRange([]byte("+"), []byte("-"))
	if !r.empty() {
		t.Error("+ - must be empty")
	}
	r, _ = ParseLexRange([]byte("[a"), []byte("[a"))
	if r.empty() || !r.Contains("a") || r.Contains("b") {
		t.Error("[a [a")
	}
}

func TestEncodingConversion(t *testing.T) {
	lim := Limits{MaxListpackEntries: 3, MaxListpackValue: 4}
	z := New(true, 0)
	for i := 0; i < 3; i++ {
		z.Add([]byte{byte('a' + i)}, float64(i), 0, lim)
	}
	if z.Encoding() != "listpack" {
		t.Fatal(z.Encoding())
	}
	z.Add([]byte("d"), 3, 0, lim)
	if z.Encoding() != "skiplist" {
		t.Fatal("4 > 3 entries must convert")
	}
	z.Delete([]byte("d"))
	if z.Encoding() != "skiplist" {
		t.Fatal("never converts back by itself")
	}
	z = New(true, 0)
	z.Add([]byte("abcde"), 1, 0, lim)
	if z.Encoding() != "skiplist" {
		t.Fatal("a 5-byte member > 4 must convert")
	}
	if !lim.Fits(3, 4, 12) || lim.Fits(4, 1, 4) || lim.Fits(1, 5, 5) {
		t.Fatal("Fits")
	}
	_ = strings.Repeat
	_ = sort.Strings
}

func FuzzDecodeSnapshot(f *testing.F) {
	z := New(false, 0)
	for i := 0; i < 20; i++ {
		z.Add([]byte(fmt.Sprint("m", i)), float64(i%3), 0, DefaultLimits)
	}
	f.Add(z.AppendSnapshot(nil))
	f.Add([]byte{0})
	f.Add([]byte{1, 1, 'a', 0, 0, 0, 0, 0, 0, 0xf0, 0x3f})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeSnapshot(data, Limits{MaxListpackEntries: 8, MaxListpackValue: 8})
		if err != nil {
			return
		}
		m := model{}
		got.ForEach(func(mb string, s float64) bool { m[mb] = s; return true })
		check(t, got, m)
		again, err := DecodeSnapshot(got.AppendSnapshot(nil), DefaultLimits)
		if err != nil || again.Len() != got.Len() {
			t.Fatalf("round trip: %v", err)
		}
	})
}
