package store

import "runtime"

// Snapshot is a point-in-time image of every database, taken while the
// server goes on serving. BeginSnapshot marks every shard in one instant
// (it holds all shard locks to do so); after that, whoever locks a marked
// shard first to change it — a write command, an insert or delete by
// eviction or expiry, or the snapshot's writer — serializes the shard
// into the snapshot before doing anything else, and clears the mark. Read-only commands (a
// LockSet's ReadOnly) leave it to the writer, so that a save does not
// stall the readers of a busy server; the writer serializes a shard in
// chunks of captureChunk entries, unlocking it in between so that
// readers wait for a chunk at most (a reader that deletes an expired key
// finishes the shard's image first: until then its entries do not move). So each shard's image is its state at the instant of
// BeginSnapshot, and a key that RENAME or MOVE carries to another shard
// meanwhile is in the image once, under its old name.
//
// This is copy-on-write at the grain of a shard, where Redis forks for
// copy-on-write of pages: a shard's image costs memory until the writer
// takes it, at most one serialized copy of the keyspace when every shard
// is written to before the writer reaches it.
type Snapshot struct {
	ks     *Keyspace
	now    int64
	record RecordFunc
	images [][]byte // by Shard.ord; written and taken under the shard's lock
}

// RecordFunc appends the snapshot record of e, a live entry of database
// db, to b. It is called with e's shard locked and must not lock
// anything else.
type RecordFunc func(db int, e *Entry, b []byte) []byte

// BeginSnapshot marks every shard for a snapshot at now: entries that
// have expired by then are left out. The caller takes every shard's image
// with Image and then calls Close.
func (ks *Keyspace) BeginSnapshot(now int64, record RecordFunc) *Snapshot {
	s := &Snapshot{ks: ks, now: now, record: record, images: make([][]byte, len(ks.dbs)*ks.shards)}
	var ls LockSet
	ls.AddAll(ks)
	ls.Lock()
	for _, sh := range ls.shards {
		sh.snap = s
	}
	ls.Unlock()
	return s
}

// Shards is the number of images: every shard of every database.
func (s *Snapshot) Shards() int { return len(s.images) }

// captureChunk is how many entries the snapshot's writer serializes per
// hold of a shard's lock (~50 µs of a reader's wait at worst).
const captureChunk = 256

// Image returns the records of shard i (0 <= i < Shards), serializing it
// now, into buf's memory, if nobody has since BeginSnapshot. Each image is
// returned once; the snapshot keeps no reference to it, so the caller can
// pass it back as the next buf once written (a save that allocated every
// image anew made enough garbage for a GC cycle, which held up the event
// loop for tens of milliseconds).
func (s *Snapshot) Image(i int, buf []byte) []byte {
	sh := s.ks.shardByOrd(i)
	for {
		sh.mu.Lock()
		if sh.snap != nil && sh.snapPos == 0 && s.images[i] == nil {
			s.images[i] = buf[:0]
		}
		if sh.snap != nil && !sh.capture(captureChunk) {
			sh.mu.Unlock()
			runtime.Gosched() // let a waiting command have the shard
			continue
		}
		b := s.images[i]
		s.images[i] = nil
		sh.mu.Unlock()
		return b
	}
}

// Close clears the marks of shards whose images were not taken (a
// snapshot given up on an error), so that nothing serializes them later.
func (s *Snapshot) Close() {
	for i := range s.images {
		sh := s.ks.shardByOrd(i)
		sh.mu.Lock()
		if sh.snap == s {
			sh.snap, sh.snapPos = nil, 0
		}
		s.images[i] = nil
		sh.mu.Unlock()
	}
}

// shardByOrd is the shard at position ord of the global lock order.
func (ks *Keyspace) shardByOrd(ord int) *Shard {
	return &ks.dbs[ord/ks.shards].shards[ord%ks.shards]
}

// lock locks the shard and, when a snapshot has marked it, serializes it
// into that snapshot first: the lock of a caller that may change values
// in place (Shard.Lock, a LockSet that is not ReadOnly). The store's own
// readers, active expiry and eviction lock plainly: all they change is
// which entries exist, and every insert and delete finishes a waiting
// image first (beforeChange).
func (sh *Shard) lock() {
	sh.mu.Lock()
	if sh.snap != nil {
		sh.capture(len(sh.entries))
	}
}

// beforeChange finishes the image a snapshot waits for before an entry is
// inserted or deleted (by expiry, eviction, or a command under a
// read-only lock); sh is locked.
func (sh *Shard) beforeChange() {
	if sh.snap != nil {
		sh.capture(len(sh.entries))
	}
}

// capture serializes up to n more entries into the shard's image; sh is
// locked. It reports whether the image is complete (and the mark gone).
func (sh *Shard) capture(n int) bool {
	s := sh.snap
	end := min(sh.snapPos+n, len(sh.entries))
	b := s.images[sh.ord]
	for _, e := range sh.entries[sh.snapPos:end] {
		if !e.Expired(s.now) {
			b = s.record(sh.db.id, e, b)
		}
	}
	s.images[sh.ord] = b
	if end < len(sh.entries) {
		sh.snapPos = end
		return false
	}
	sh.snap, sh.snapPos = nil, 0
	return true
}
