package store

// Snapshot is a point-in-time image of every database, taken while the
// server goes on serving. BeginSnapshot marks every shard in one instant
// (it holds all shard locks to do so); after that, whoever locks a marked
// shard first — the snapshot writer, a command, eviction, active expiry —
// serializes the shard into the snapshot before doing anything else, and
// clears the mark. So each shard's image is its state at the instant of
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

// Image returns the records of shard i (0 <= i < Shards), serializing it
// now if nobody has locked it since BeginSnapshot. Each image is returned
// once; the snapshot keeps no reference to it.
func (s *Snapshot) Image(i int) []byte {
	sh := s.ks.shardByOrd(i)
	sh.lock()
	b := s.images[i]
	s.images[i] = nil
	sh.mu.Unlock()
	return b
}

// Close clears the marks of shards whose images were not taken (a
// snapshot given up on an error), so that nothing serializes them later.
func (s *Snapshot) Close() {
	for i := range s.images {
		sh := s.ks.shardByOrd(i)
		sh.mu.Lock()
		if sh.snap == s {
			sh.snap = nil
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
// into that snapshot first. Every lock of a shard goes through here.
func (sh *Shard) lock() {
	sh.mu.Lock()
	if sh.snap != nil {
		sh.capture()
	}
}

// capture writes the shard's image into its snapshot; sh is locked.
func (sh *Shard) capture() {
	s := sh.snap
	sh.snap = nil
	var b []byte
	for _, e := range sh.entries {
		if !e.Expired(s.now) {
			b = s.record(sh.db.id, e, b)
		}
	}
	s.images[sh.ord] = b
}
