package fsm

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/anvilstack/anvil/pkg/pebblestore"
)

type harness struct {
	t     *testing.T
	db    *pebblestore.DB
	f     *FSM
	index uint64
}

func newHarness(t *testing.T, dir string) *harness {
	t.Helper()
	db, err := pebblestore.Open(filepath.Join(dir, "db"), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(db, 3)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, f: f, index: f.Applied()}
	t.Cleanup(func() { f.Close(); db.Close() })
	return h
}

func (h *harness) apply(cmds ...Command) []*Result {
	var logs []*raft.Log
	for _, c := range cmds {
		h.index++
		logs = append(logs, &raft.Log{Index: h.index, Type: raft.LogCommand, Data: c.Append(nil)})
	}
	var out []*Result
	for _, r := range h.f.ApplyBatch(logs) {
		out = append(out, r.(*Result))
	}
	return out
}

func put(key, val string, stamp int64) Command {
	return Command{Op: OpPut, Stamp: stamp, Key: []byte(key), Value: []byte(val)}
}

func (h *harness) get(key string) (string, uint64, bool) {
	v, rev, ok, err := h.f.Get([]byte(key), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return string(v), rev, ok
}

// The contract's write semantics, including two writes of one key inside a
// single applied batch.
func TestRevisionsAndCAS(t *testing.T) {
	h := newHarness(t, t.TempDir())
	cases := []struct {
		name string
		cmd  Command
		want Result
	}{
		{"create", put("a", "1", 10), Result{Revision: 1}},
		{"overwrite", put("a", "2", 11), Result{Revision: 2}},
		{"cas at the current revision", Command{Op: OpPut, Stamp: 12, Key: []byte("a"), Value: []byte("3"), HasPrev: true, Prev: 2}, Result{Revision: 3}},
		{"cas at a stale revision", Command{Op: OpPut, Stamp: 12, Key: []byte("a"), Value: []byte("x"), HasPrev: true, Prev: 2}, Result{Failed: true, Current: 3}},
		{"create-only on an existing key", Command{Op: OpPut, Key: []byte("a"), Value: []byte("x"), HasPrev: true, Prev: 0}, Result{Failed: true, Current: 3}},
		{"create-only on an absent key", Command{Op: OpPut, Key: []byte("b"), Value: []byte("b1"), HasPrev: true, Prev: 0}, Result{Revision: 4}},
		{"conditional delete, wrong revision", Command{Op: OpDelete, Key: []byte("b"), HasPrev: true, Prev: 1}, Result{Failed: true, Current: 4}},
		{"conditional delete", Command{Op: OpDelete, Key: []byte("b"), HasPrev: true, Prev: 4}, Result{Revision: 5, Deleted: true}},
		{"delete of an absent key", Command{Op: OpDelete, Key: []byte("b")}, Result{}},
		{"conditional delete of an absent key", Command{Op: OpDelete, Key: []byte("b"), HasPrev: true, Prev: 5}, Result{Failed: true, Current: 0}},
		{"re-create after delete gets a higher revision", put("b", "b2", 13), Result{Revision: 6}},
	}
	for _, c := range cases {
		got := h.apply(c.cmd)[0]
		if *got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, *got, c.want)
		}
	}
	if v, rev, ok := h.get("a"); !ok || v != "3" || rev != 3 {
		t.Fatalf("a = %q@%d %v", v, rev, ok)
	}
	res := h.apply(put("c", "1", 20), put("c", "2", 20), Command{Op: OpPut, Key: []byte("c"), Value: []byte("3"), HasPrev: true, Prev: 8})
	if res[0].Revision != 7 || res[1].Revision != 8 || res[2].Revision != 9 {
		t.Fatalf("writes in one batch: %+v %+v %+v", res[0], res[1], res[2])
	}
}

// A batch entry applies its commands in order, each with its own revision
// and result, later ones seeing earlier ones (CAS, delete), exactly as the
// same commands in separate entries would; replicas agree.
func TestBatchEntry(t *testing.T) {
	cmds := []Command{
		put("x", "1", 30),
		{Op: OpPut, Stamp: 30, Key: []byte("x"), Value: []byte("2"), HasPrev: true, Prev: 1},
		{Op: OpPut, Stamp: 30, Key: []byte("x"), Value: []byte("stale"), HasPrev: true, Prev: 1},
		{Op: OpPut, Stamp: 31, Key: []byte("y"), Value: []byte("t"), TTL: 1000},
		{Op: OpDelete, Stamp: 31, Key: []byte("x"), HasPrev: true, Prev: 2},
		{Op: OpDelete, Stamp: 31, Key: []byte("x")},
		{Op: OpPut, Stamp: 32, Key: []byte("z"), Value: bytes.Repeat([]byte("v"), 300), HasPrev: true, Prev: 0},
		{Op: OpTick, Stamp: 33},
	}
	want := []Result{{Revision: 1}, {Revision: 2}, {Failed: true, Current: 2}, {Revision: 3}, {Revision: 4, Deleted: true}, {}, {Revision: 5}, {}}
	var b Batch
	for i := range cmds {
		b.Add(&cmds[i])
	}
	if b.Len() != len(cmds) {
		t.Fatalf("Len %d", b.Len())
	}
	batched := newHarness(t, t.TempDir())
	batched.index++
	out := batched.f.ApplyBatch([]*raft.Log{{Index: batched.index, Type: raft.LogCommand, Data: b.Bytes()}})
	got, ok := out[0].([]Result)
	if !ok || len(got) != len(want) {
		t.Fatalf("batch result %#v", out[0])
	}
	single := newHarness(t, t.TempDir())
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("command %d: %+v, want %+v", i, got[i], want[i])
		}
		if r := single.apply(cmds[i])[0]; *r != want[i] {
			t.Errorf("command %d alone: %+v, want %+v", i, *r, want[i])
		}
	}
	for _, h := range []*harness{batched, single} {
		if _, _, ok := h.get("x"); ok {
			t.Fatal("x survived its delete")
		}
		if v, rev, ok := h.get("z"); !ok || len(v) != 300 || rev != 5 {
			t.Fatalf("z = %d bytes @%d %v", len(v), rev, ok)
		}
		if exp, ok := h.f.NextExpiry(); !ok || exp != 1031 {
			t.Fatalf("y's expiry %d %v", exp, ok)
		}
		if h.f.Revision() != 5 || h.f.Now() != 33 {
			t.Fatalf("revision %d, time %d", h.f.Revision(), h.f.Now())
		}
	}
	if batched.f.Applied() != 1 {
		t.Fatalf("applied index %d", batched.f.Applied())
	}
	b.Reset()
	if b.Len() != 0 || b.Size() != 0 {
		t.Fatal("Reset kept commands")
	}
}

// Malformed batches are refused whole: nothing of them applies.
func TestBatchMalformed(t *testing.T) {
	var inner Batch
	inner.Add(&Command{Op: OpPut, Key: []byte("a"), Value: []byte("1")})
	const header = 13 // version op stamp(8) flags ttl=0 keylen=0
	hdr := (Command{Op: OpBatch}).Append(nil)
	if len(hdr) != header {
		t.Fatalf("batch header is %d bytes", len(hdr))
	}
	cases := map[string][]byte{
		"empty body": hdr,
		"with a key": (Command{Op: OpBatch, Key: []byte("k"), Value: inner.Bytes()[header:]}).Append(nil),
		"truncated":  inner.Bytes()[:len(inner.Bytes())-1],
		"bad length": append(append(slices.Clone(hdr), 0x7f), inner.Bytes()[header+3:]...),
		// a batch inside a batch (its length fits one uvarint byte)
		"nested batch": append(append(slices.Clone(hdr), byte(len(inner.Bytes()))), inner.Bytes()...),
		"bad inner":    append(slices.Clone(hdr), 2, 9, 9),
	}
	h := newHarness(t, t.TempDir())
	for name, data := range cases {
		var c Command
		if err := Decode(data, &c); err == nil {
			t.Errorf("%s: decoded", name)
		}
		h.index++
		out := h.f.ApplyBatch([]*raft.Log{{Index: h.index, Type: raft.LogCommand, Data: data}})
		if r, ok := out[0].(*Result); !ok || r.Err == nil {
			t.Errorf("%s: applied: %#v", name, out[0])
		}
	}
	if h.f.Revision() != 0 {
		t.Fatalf("a malformed batch wrote: revision %d", h.f.Revision())
	}
}

// TTLs are judged by the leader-stamped time, never the replica's clock.
func TestTTLByStampedTime(t *testing.T) {
	h := newHarness(t, t.TempDir())
	h.apply(Command{Op: OpPut, Stamp: 1000, Key: []byte("t"), Value: []byte("v"), TTL: 500}, put("keep", "k", 1000))
	if exp, ok := h.f.NextExpiry(); !ok || exp != 1500 {
		t.Fatalf("NextExpiry = %d %v", exp, ok)
	}
	h.apply(Command{Op: OpTick, Stamp: 1499})
	if _, _, ok := h.get("t"); !ok {
		t.Fatal("expired before its time")
	}
	// A CAS against a key that expired compares with 0.
	h.apply(Command{Op: OpTick, Stamp: 1500})
	if _, _, ok := h.get("t"); ok {
		t.Fatal("still visible at its expiry")
	}
	if _, ok := h.f.NextExpiry(); ok {
		t.Fatal("ttl index not cleaned by the tick")
	}
	// A clock that goes back (a new leader) does not resurrect anything.
	h.apply(Command{Op: OpPut, Stamp: 100, Key: []byte("u"), Value: []byte("v"), TTL: 10})
	if h.f.Now() != 1500 {
		t.Fatalf("time went back to %d", h.f.Now())
	}
	r := h.apply(Command{Op: OpPut, Stamp: 2000, Key: []byte("u"), Value: []byte("w"), HasPrev: true, Prev: 0})[0]
	if r.Failed {
		t.Fatalf("CAS prev=0 on an expired key failed: %+v", r)
	}
	if _, _, ok := h.get("keep"); !ok {
		t.Fatal("key without TTL expired")
	}
}

func TestScan(t *testing.T) {
	h := newHarness(t, t.TempDir())
	for _, k := range []string{"a/1", "a/2", "a/3", "b/1", "a"} {
		h.apply(put(k, "v"+k, 1))
	}
	items, more, err := h.f.Scan([]byte("a/"), nil, 2)
	if err != nil || more != true || len(items) != 2 || string(items[0].Key) != "a/1" || string(items[1].Key) != "a/2" {
		t.Fatalf("scan a/ limit 2: %v %v %v", items, more, err)
	}
	items, more, _ = h.f.Scan([]byte("a/"), []byte("a/2"), 10)
	if more || len(items) != 1 || string(items[0].Key) != "a/3" || string(items[0].Value) != "va/3" {
		t.Fatalf("scan after a/2: %v %v", items, more)
	}
	items, _, _ = h.f.Scan(nil, nil, 100)
	if len(items) != 5 || string(items[0].Key) != "a" || string(items[4].Key) != "b/1" {
		t.Fatalf("full scan: %d items", len(items))
	}
}

// Entries at or below the stored applied index are not applied again
// after a restart (raft replays its log from the last snapshot).
func TestNoDoubleApplyAfterRestart(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	h.apply(put("a", "1", 1), put("a", "2", 1))
	h.f.Close()
	h.db.Close()

	db, err := pebblestore.Open(filepath.Join(dir, "db"), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f, err := Open(db, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Applied() != 2 || f.Revision() != 2 {
		t.Fatalf("after reopen applied=%d rev=%d", f.Applied(), f.Revision())
	}
	replay := []*raft.Log{
		{Index: 1, Type: raft.LogCommand, Data: put("a", "1", 1).Append(nil)},
		{Index: 2, Type: raft.LogCommand, Data: put("a", "2", 1).Append(nil)},
		{Index: 3, Type: raft.LogCommand, Data: put("a", "3", 1).Append(nil)},
	}
	res := f.ApplyBatch(replay)
	if res[0] != nil || res[1] != nil || res[2].(*Result).Revision != 3 {
		t.Fatalf("replay results %v %v %v", res[0], res[1], res[2])
	}
}

type bufSink struct {
	bytes.Buffer
	cancelled bool
}

func (s *bufSink) ID() string    { return "test" }
func (s *bufSink) Cancel() error { s.cancelled = true; return nil }
func (s *bufSink) Close() error  { return nil }

// A snapshot restored into another replica reproduces keys, revisions,
// TTLs and the applied index, replacing what the replica had.
func TestSnapshotRestore(t *testing.T) {
	a := newHarness(t, t.TempDir())
	for i := 0; i < 300; i++ {
		a.apply(put(fmt.Sprintf("k%03d", i), fmt.Sprint(i), 5))
	}
	a.apply(Command{Op: OpPut, Stamp: 5, Key: []byte("ttl"), Value: []byte("x"), TTL: 100})
	snap, err := a.f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	a.apply(put("after", "not in the snapshot", 6))
	var sink bufSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()

	b := newHarness(t, t.TempDir())
	b.apply(put("stale", "gone after restore", 1))
	if err := b.f.Restore(io.NopCloser(&sink)); err != nil {
		t.Fatal(err)
	}
	if b.f.Applied() != 301 || b.f.Revision() != 301 {
		t.Fatalf("restored applied=%d rev=%d, want 301", b.f.Applied(), b.f.Revision())
	}
	if v, rev, ok := b.get("k123"); !ok || v != "123" || rev != 124 {
		t.Fatalf("k123 = %q@%d %v", v, rev, ok)
	}
	if _, _, ok := b.get("stale"); ok {
		t.Fatal("a key the snapshot lacks survived the restore")
	}
	if _, _, ok := b.get("after"); ok {
		t.Fatal("a write after the snapshot appeared in it")
	}
	if exp, ok := b.f.NextExpiry(); !ok || exp != 105 {
		t.Fatalf("TTL index not rebuilt: %d %v", exp, ok)
	}
}

func FuzzDecodeCommand(f *testing.F) {
	f.Add(put("key", "value", 1).Append(nil))
	f.Add((&Command{Op: OpDelete, Key: []byte("k"), HasPrev: true, Prev: 77}).Append(nil))
	f.Add((&Command{Op: OpPut, Key: []byte("k"), TTL: 30000, Value: []byte{0, 1}}).Append(nil))
	f.Add((&Command{Op: OpTick, Stamp: 99}).Append(nil))
	f.Add([]byte{1, 1, 0})
	var seed Batch
	seed.Add(&Command{Op: OpPut, Key: []byte("k"), Value: []byte("v"), HasPrev: true, Prev: 3})
	seed.Add(&Command{Op: OpDelete, Key: []byte("k")})
	seed.Add(&Command{Op: OpTick, Stamp: 5})
	f.Add(append([]byte(nil), seed.Bytes()...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Command
		if Decode(b, &c) != nil {
			return
		}
		if c.Op == OpBatch {
			// Every command of a decoded batch decodes, and re-batching
			// them gives a batch that decodes to the same commands.
			var again Batch
			var subs [][]byte
			r := BatchReader{Body: c.Value}
			var sub Command
			for r.Next(&sub) {
				again.Add(&sub)
				subs = append(subs, sub.Append(nil))
			}
			if r.Err() != nil || r.Count() == 0 {
				t.Fatalf("decoded batch does not iterate: %d %v", r.Count(), r.Err())
			}
			var c2 Command
			if err := Decode(again.Bytes(), &c2); err != nil || c2.Op != OpBatch {
				t.Fatalf("re-batched commands do not decode: %v", err)
			}
			r2 := BatchReader{Body: c2.Value}
			for i := 0; r2.Next(&sub); i++ {
				if !bytes.Equal(sub.Append(nil), subs[i]) {
					t.Fatalf("command %d changed when re-batched", i)
				}
			}
		}
		var c2 Command
		if err := Decode(c.Append(nil), &c2); err != nil {
			t.Fatalf("re-encoded command does not decode: %v", err)
		}
		if c2.Op != c.Op || c2.Stamp != c.Stamp || c2.Prev != c.Prev || c2.HasPrev != c.HasPrev || c2.TTL != c.TTL ||
			!bytes.Equal(c2.Key, c.Key) || !bytes.Equal(c2.Value, c.Value) {
			t.Fatalf("round trip changed the command: %+v -> %+v", c, c2)
		}
	})
}

// Applying arbitrary entries never panics and keeps revisions increasing.
func FuzzApply(f *testing.F) {
	f.Add(put("a", "1", 1).Append(nil), (&Command{Op: OpDelete, Key: []byte("a"), HasPrev: true, Prev: 1}).Append(nil))
	var b Batch
	b.Add(&Command{Op: OpPut, Key: []byte("a"), Value: []byte("2"), TTL: 5})
	b.Add(&Command{Op: OpDelete, Key: []byte("a"), HasPrev: true, Prev: 2})
	f.Add(append([]byte(nil), b.Bytes()...), (&Command{Op: OpTick, Stamp: 10}).Append(nil))
	f.Fuzz(func(t *testing.T, e1, e2 []byte) {
		h := newHarness(t, t.TempDir())
		h.index++
		h.f.ApplyBatch([]*raft.Log{{Index: h.index, Type: raft.LogCommand, Data: e1}, {Index: h.index + 1, Type: raft.LogCommand, Data: e2}})
		h.index++
		before := h.f.Revision()
		r := h.apply(put("probe", "x", 0))[0]
		if r.Revision != before+1 {
			t.Fatalf("revision %d after %d", r.Revision, before)
		}
	})
}
