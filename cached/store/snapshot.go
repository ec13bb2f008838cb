package store

import (
	"runtime"
	"strings"
)

// Snapshot is a point-in-time image of every database, taken while the
// server goes on serving. BeginSnapshot marks every shard in one instant
// (it holds all shard locks to do so); the snapshot's writer then
// serializes the marked shards one after the other, in chunks of
// captureChunk entries, unlocking the shard between chunks so that a
// command waits for one chunk at most.
//
// Meanwhile the image must stay the keyspace as it was at the mark, so
// every change to a marked shard first keeps what it changes (copy-on-write
// per key, where Redis's forked save copies a 4 KB page):
//   - a write command locks through a LockSet that names its keys, and
//     Lock stashes the records of those keys as they are (or notes their
//     absence) before the command runs; a LockSet that names no keys
//     (FLUSHDB, SWAPDB, an EXEC with such a command) serializes its
//     marked shards whole instead;
//   - every insert and delete, whoever makes it (eviction, active or lazy
//     expiry under a read-only lock), keeps the entry it deletes or the
//     absence of the key it adds, and the entry a delete moves into the
//     part of the shard the writer has read;
//   - in-place changes made by store methods (setString, GrowString,
//     SetExpire, SetObject) keep their entry too.
//
// The writer skips entries whose keys are stashed and adds the stash's
// records when it reaches the shard's end. A shard's image waits in memory
// until the writer takes it.
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
			sh.snap, sh.snapPos, sh.stash = nil, 0, nil
		}
		s.images[i] = nil
		sh.mu.Unlock()
	}
}

// shardByOrd is the shard at position ord of the global lock order.
func (ks *Keyspace) shardByOrd(ord int) *Shard {
	return &ks.dbs[ord/ks.shards].shards[ord%ks.shards]
}

// keepForSnapshot prepares the shards a write lock took that a snapshot
// waits for: a set that named its keys keeps the records of those keys
// (the holder changes nothing else), any other set serializes its marked
// shards whole.
func (ls *LockSet) keepForSnapshot() {
	if ls.unkeyed {
		for _, sh := range ls.shards {
			if sh.snap != nil {
				sh.capture(len(sh.entries))
			}
		}
		return
	}
	for _, k := range ls.keys {
		sh, tag := k.db.locate(k.key)
		if sh.snap == nil {
			continue
		}
		if e := sh.keys.get(k.key, tag); e != nil {
			sh.keep(e)
		} else {
			sh.keepAbsent(string(k.key))
		}
	}
}

// keep stashes e's record as it was when the snapshot began, before e
// changes: unless the image has it already (e is before snapPos) or the
// stash does (it changed before). sh is locked and marked.
func (sh *Shard) keep(e *Entry) {
	if int(e.idx) < sh.snapPos {
		return
	}
	if _, ok := sh.stash[e.key]; ok {
		return
	}
	var rec []byte
	if !e.Expired(sh.snap.now) {
		rec = sh.snap.record(sh.db.id, e, nil)
	}
	sh.stashPut(e.key, rec)
}

// keepAbsent notes that key had no entry when the snapshot began, before
// an entry for it appears (it can only have had one that was deleted
// since, and the image or the stash holds that one).
func (sh *Shard) keepAbsent(key string) {
	if _, ok := sh.stash[key]; !ok {
		sh.stashPut(key, nil)
	}
}

// keepDetached is keep for an entry about to be deleted, which moves the
// shard's last entry into its place: when that move takes the last entry
// from the part the image has yet to read into the part it has read, its
// record is kept first.
func (sh *Shard) keepDetached(e *Entry) {
	sh.keep(e)
	last := len(sh.entries) - 1
	if moved := sh.entries[last]; moved != e && int(e.idx) < sh.snapPos && last >= sh.snapPos {
		sh.keep(moved)
	}
}

func (sh *Shard) stashPut(key string, rec []byte) {
	if sh.stash == nil {
		sh.stash = map[string][]byte{}
	}
	sh.stash[strings.Clone(key)] = rec
}

// capture serializes up to n more entries into the shard's image; sh is
// locked. It reports whether the image is complete (and the mark gone).
func (sh *Shard) capture(n int) bool {
	s := sh.snap
	// Deletes may have left fewer entries than the image has read: all
	// of them are in it or in the stash.
	sh.snapPos = min(sh.snapPos, len(sh.entries))
	end := min(sh.snapPos+n, len(sh.entries))
	b := s.images[sh.ord]
	for _, e := range sh.entries[sh.snapPos:end] {
		if _, changed := sh.stash[e.key]; !changed && !e.Expired(s.now) {
			b = s.record(sh.db.id, e, b)
		}
	}
	sh.snapPos = end
	if end < len(sh.entries) {
		s.images[sh.ord] = b
		return false
	}
	for _, rec := range sh.stash {
		b = append(b, rec...)
	}
	s.images[sh.ord] = b
	sh.snap, sh.snapPos, sh.stash = nil, 0, nil
	return true
}
