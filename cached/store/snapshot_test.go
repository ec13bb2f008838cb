package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
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
	val := e.Str
	if o, ok := e.Obj.(*bytesObj); ok {
		val = o.b
	}
	b = append(b, byte(db), byte(len(e.Key())))
	b = append(b, e.Key()...)
	b = append(b, byte(len(val)))
	return append(b, val...)
}

// bytesObj is an Object that commands change in place, as the families'
// values are.
type bytesObj struct{ b []byte }

func (o *bytesObj) Kind() Kind       { return KindList }
func (o *bytesObj) Encoding() string { return "test" }
func (o *bytesObj) MemUsage() int    { return cap(o.b) }

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
	if db.Get([]byte("k"), 0) == nil {
		t.Fatal("k missing")
	}
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

// The writer serializes a big shard in chunks; readers between chunks add
// nothing to it; a lazy expiry under a read-only lock keeps the record of
// the entry its delete moves into the part already read; the image is the
// keyspace when the snapshot began.
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
	if calls != captureChunk+1 {
		t.Fatalf("after a lazy expiry %d records, want %d", calls, captureChunk+1)
	}
	if got := images(s); !slices.Equal(got, want) {
		t.Fatalf("image has %d records, want %d", len(got), len(want))
	}
}

// A snapshot's image is the keyspace when it began, whatever runs while
// the writer serializes shards chunk by chunk: writes under keyed and
// unkeyed locks, deletes, renames across shards and databases, TTL
// changes, in-place growth, reads that expire keys lazily, active expiry
// and eviction. A model copy of the keyspace taken at the start is the
// reference; thousands of random schedules, each checked.
func TestSnapshotModel(t *testing.T) {
	rounds := 300
	if testing.Short() {
		rounds = 30
	}
	for seed := range rounds {
		snapshotModelRound(t, uint64(seed))
	}
}

func snapshotModelRound(t *testing.T, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	ks := New(Config{Databases: 2, Shards: 2}, nil)
	const keys = 1400 // ~350 per shard: two chunks or more
	const begin = 1000
	key := func(i int) string { return fmt.Sprintf("k%d", i) }
	for i := range keys {
		exp := int64(0)
		switch r.IntN(6) {
		case 0:
			exp = begin - 100 - int64(r.IntN(50)) // expired when the snapshot begins
		case 1:
			exp = begin + 100 + int64(r.IntN(400)) // expires during it
		}
		if i%5 == 0 {
			db := ks.DB(i % 2)
			unlock := lockKey(db, key(i))
			e := db.SetObject([]byte(key(i)), &bytesObj{b: []byte(fmt.Sprintf("v%d", i))}, 0, false)
			if exp != 0 {
				db.SetExpire(e, exp)
			}
			unlock()
			continue
		}
		set(ks.DB(i%2), key(i), fmt.Sprintf("v%d", i), 0, exp)
	}
	want := map[string]bool{}
	for d := range 2 {
		for i := range ks.DB(d).shards {
			for _, e := range ks.DB(d).shards[i].entries {
				if !e.Expired(begin) {
					val := e.Str
					if o, ok := e.Obj.(*bytesObj); ok {
						val = o.b
					}
					want[fmt.Sprintf("%d/%s=%s", d, e.key, val)] = true
				}
			}
		}
	}
	s := ks.BeginSnapshot(begin, record)
	now := int64(begin)
	randKey := func() (*DB, []byte) { return ks.DB(r.IntN(2)), []byte(key(r.IntN(keys + 200))) }
	for op := 0; op < 400; op++ {
		now += int64(r.IntN(3))
		var ls LockSet
		switch r.IntN(12) {
		case 11: // an object value changed in place, or made
			db, k := randKey()
			if r.IntN(3) == 0 {
				ls.AddShard(db.ShardOf(k))
			} else {
				ls.Add(db, k)
			}
			ls.Lock()
			if e := db.Get(k, now); e != nil && e.Obj != nil && len(e.Obj.(*bytesObj).b) < 100 {
				o := e.Obj.(*bytesObj)
				o.b = append(o.b, '*')
				db.Updated(e)
			} else {
				db.SetObject(k, &bytesObj{b: []byte(fmt.Sprintf("o%d", op))}, now, r.IntN(2) == 0)
			}
			ls.Unlock()
		case 0, 1: // the writer's next chunk of a random shard
			sh := ks.shardByOrd(r.IntN(4))
			sh.mu.Lock()
			if sh.snap != nil {
				sh.capture(captureChunk)
			}
			sh.mu.Unlock()
		case 2: // SET, keyed
			db, k := randKey()
			ls.Add(db, k)
			ls.Lock()
			db.Set(k, []byte(fmt.Sprintf("w%d", op)), now, SetOptions{KeepTTL: r.IntN(2) == 0})
			ls.Unlock()
		case 3: // SET under a lock that names no key
			db, k := randKey()
			ls.AddShard(db.ShardOf(k))
			ls.Lock()
			db.Set(k, []byte(fmt.Sprintf("u%d", op)), now, SetOptions{})
			ls.Unlock()
		case 4: // DEL
			db, k := randKey()
			ls.Add(db, k)
			ls.Lock()
			db.Delete(k, now)
			ls.Unlock()
		case 5: // RENAME, maybe to another database
			db, k := randKey()
			db2, k2 := randKey()
			ls.Add(db, k)
			ls.Add(db2, k2)
			ls.Lock()
			if db.Get(k, now) != nil {
				db.Rename(k, db2, k2, now)
			}
			ls.Unlock()
		case 6: // EXPIRE / PERSIST
			db, k := randKey()
			ls.Add(db, k)
			ls.Lock()
			if e := db.Get(k, now); e != nil {
				db.SetExpire(e, []int64{0, now + 5, now + 1000}[r.IntN(3)])
			}
			ls.Unlock()
		case 7: // APPEND in place
			db, k := randKey()
			ls.Add(db, k)
			ls.Lock()
			if e := db.Get(k, now); e != nil && e.Obj == nil && len(e.Str) < 100 {
				copy(db.GrowString(e, 3)[len(e.Str)-3:], "+++")
			}
			ls.Unlock()
		case 8: // a read that may expire its key
			db, k := randKey()
			ls.ReadOnly = true
			ls.Add(db, k)
			ls.Lock()
			db.Get(k, now)
			ls.Unlock()
		case 9:
			ks.ActiveExpireCycle(now, time.Second)
		case 10:
			ks.SetPolicy(AllKeysRandom)
			ks.SetMaxMemory(ks.UsedMemory() - int64(r.IntN(2000)))
			ks.Evict(now)
			ks.SetMaxMemory(0)
		}
	}
	got := images(s)
	for _, g := range got {
		if !want[g] {
			t.Fatalf("seed %d: the image has %q, which was not in the keyspace when it began", seed, g)
		}
		delete(want, g)
	}
	for w := range want {
		t.Fatalf("seed %d: the image lacks %q (and %d more)", seed, w, len(want)-1)
	}
	for i := range 4 {
		if sh := ks.shardByOrd(i); sh.snap != nil || sh.stash != nil || sh.snapPos != 0 {
			t.Fatalf("seed %d: shard %d still marked after its image was taken", seed, i)
		}
	}
}
