package store

import (
	"fmt"
	"slices"
	"testing"
)

// images collects a snapshot's records as "db/key=value" strings.
func images(s *Snapshot) []string {
	var out []string
	for i := range s.Shards() {
		b := s.Image(i, nil)
		for len(b) > 0 { // records are db byte, key length byte, key, value length byte, value
			db, kl := b[0], int(b[1])
			key := string(b[2 : 2+kl])
			vl := int(b[2+kl])
			out = append(out, string('0'+db)+"/"+key+"="+string(b[3+kl:3+kl+vl]))
			b = b[3+kl+vl:]
		}
	}
	slices.Sort(out)
	return out
}

func record(db int, e *Entry, b []byte) []byte {
	b = append(b, byte(db), byte(len(e.Key())))
	b = append(b, e.Key()...)
	b = append(b, byte(len(e.Str)))
	return append(b, e.Str...)
}

// The image is the keyspace when the snapshot began, whatever changed
// after: writes, renames across databases, flushes, expiry.
func TestSnapshotImageIsBeginState(t *testing.T) {
	ks := New(Config{Databases: 2, Shards: 4}, nil)
	db0, db1 := ks.DB(0), ks.DB(1)
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		set(db0, k, "v"+k, 1000, 0)
	}
	set(db0, "ttl", "x", 1000, 1500)
	set(db0, "gone", "x", 1000, 1200)
	s := ks.BeginSnapshot(1300, record)

	set(db0, "a", "changed", 1400, 0)
	set(db0, "new", "n", 1400, 0)
	var ls LockSet
	ls.Add(db0, []byte("b"))
	ls.Add(db1, []byte("b2"))
	ls.Lock()
	db0.Rename([]byte("b"), db1, []byte("b2"), 1400)
	ls.Unlock()
	ls.AddDB(db0)
	ls.Lock()
	db0.Flush()
	ls.Unlock()

	want := []string{"0/a=va", "0/b=vb", "0/c=vc", "0/d=vd", "0/e=ve", "0/f=vf", "0/ttl=x"}
	if got := images(s); !slices.Equal(got, want) {
		t.Fatalf("image %q, want %q", got, want)
	}
	s.Close()
	if got := images(ks.BeginSnapshot(1400, record)); !slices.Equal(got, []string{"1/b2=vb"}) {
		t.Fatalf("second image %q", got)
	}
}

// Close gives the marks up: a shard locked later is not serialized.
func TestSnapshotClose(t *testing.T) {
	ks := New(Config{Databases: 1, Shards: 4}, nil)
	set(ks.DB(0), "k", "v", 0, 0)
	calls := 0
	s := ks.BeginSnapshot(0, func(db int, e *Entry, b []byte) []byte { calls++; return b })
	s.Close()
	set(ks.DB(0), "k", "w", 0, 0)
	for i := range s.Shards() {
		if s.Image(i, nil) != nil {
			t.Fatalf("image %d after Close", i)
		}
	}
	if calls != 0 {
		t.Fatalf("%d records made after Close", calls)
	}
}

// A read-only lock leaves a marked shard to the snapshot's writer; a
// lock that may write serializes it at once.
func TestSnapshotReadOnlyLockDoesNotCapture(t *testing.T) {
	ks := New(Config{Databases: 1, Shards: 1}, nil)
	db := ks.DB(0)
	set(db, "k", "v", 0, 0)
	calls := 0
	s := ks.BeginSnapshot(0, func(db int, e *Entry, b []byte) []byte { calls++; return record(db, e, b) })
	ls := LockSet{ReadOnly: true}
	ls.Add(db, []byte("k"))
	ls.Lock()
	ls.Unlock()
	if calls != 0 {
		t.Fatalf("a read-only lock serialized the shard (%d records)", calls)
	}
	if ls.ReadOnly {
		t.Fatal("Unlock left ReadOnly set")
	}
	ls.Add(db, []byte("k"))
	ls.Lock()
	db.Set([]byte("k"), []byte("w"), 0, SetOptions{})
	ls.Unlock()
	if calls != 1 {
		t.Fatalf("a write lock made %d records, want 1", calls)
	}
	if got := images(s); !slices.Equal(got, []string{"0/k=v"}) {
		t.Fatalf("image %q", got)
	}
}

// The writer serializes a big shard in chunks; readers between chunks do
// not finish it, a lazy expiry under a read-only lock does (before the
// entries move), and the image is the keyspace when the snapshot began.
func TestSnapshotChunksAndLazyExpiry(t *testing.T) {
	ks := New(Config{Databases: 1, Shards: 1}, nil)
	db := ks.DB(0)
	n := 3*captureChunk + 10
	var want []string
	for i := range n {
		k := fmt.Sprintf("k%04d", i)
		exp := int64(0)
		if i == 7 {
			exp = 150 // live when the snapshot begins, expired when read
		}
		set(db, k, "v", 0, exp)
		want = append(want, "0/"+k+"=v")
	}
	slices.Sort(want)
	calls := 0
	s := ks.BeginSnapshot(100, func(db int, e *Entry, b []byte) []byte { calls++; return record(db, e, b) })
	sh := db.ShardAt(0)
	sh.mu.Lock()
	if sh.capture(captureChunk) {
		t.Fatal("one chunk completed the image")
	}
	sh.mu.Unlock()
	ls := LockSet{ReadOnly: true}
	ls.Add(db, []byte("k0001"))
	ls.Lock()
	if db.Get([]byte("k0001"), 200) == nil {
		t.Fatal("k0001 missing")
	}
	ls.Unlock()
	if calls != captureChunk {
		t.Fatalf("a read made records: %d", calls)
	}
	ls.ReadOnly = true
	ls.Add(db, []byte("k0007"))
	ls.Lock()
	if db.Get([]byte("k0007"), 200) != nil {
		t.Fatal("k0007 not expired at 200")
	}
	ls.Unlock()
	if calls != n {
		t.Fatalf("lazy expiry left the image at %d of %d records", calls, n)
	}
	if got := images(s); !slices.Equal(got, want) {
		t.Fatalf("image has %d records, want %d", len(got), len(want))
	}
}
