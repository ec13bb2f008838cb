package store

// Scan walks db from cursor, visiting about count entries, and calls fn
// with each live one; it returns the cursor to continue from, 0 when the
// walk is complete. It locks one shard at a time; fn runs under that lock
// and must not keep the entry.
//
// The cursor holds a shard index (bits 32 and up) and a position in that
// shard's entry slice plus one (0: the shard's end, as it is when the walk
// reaches it). A shard is walked from its end down, and removals only move
// entries to lower positions, so an entry present for the whole walk is
// visited at least once, whatever is written meanwhile: Redis's SCAN
// guarantee. Entries added during the walk may or may not be visited.
func (db *DB) Scan(cursor uint64, count int, now int64, fn func(e *Entry)) uint64 {
	return db.scan(cursor, count, now, fn, nil, true)
}

// ScanWith is Scan that also calls done, under the lock, after each shard
// it visits: fn can collect references to entries and done copy them out
// before the lock is released.
func (db *DB) ScanWith(cursor uint64, count int, now int64, fn func(e *Entry), done func()) uint64 {
	return db.scan(cursor, count, now, fn, done, true)
}

func (db *DB) scan(cursor uint64, count int, now int64, fn func(e *Entry), done func(), lock bool) uint64 {
	s := int(cursor >> 32)
	pos := int(cursor & 0xffffffff)
	if count < 1 {
		count = 1
	}
	visited := 0
	for s < len(db.shards) {
		sh := &db.shards[s]
		if lock {
			sh.mu.Lock()
		}
		i := len(sh.entries)
		if pos > 0 && pos-1 < i {
			i = pos - 1
		}
		for i > 0 && visited < count {
			i--
			visited++
			e := sh.entries[i]
			if e.Expired(now) {
				sh.expireEntry(e) // moves an already-visited entry into i
				continue
			}
			fn(e)
		}
		if done != nil {
			done()
		}
		if lock {
			sh.mu.Unlock()
		}
		if i > 0 {
			return uint64(s)<<32 | uint64(i+1)
		}
		s++
		pos = 0
		if visited >= count {
			if s >= len(db.shards) {
				return 0
			}
			return uint64(s) << 32
		}
	}
	return 0
}

// ScanLocked is Scan for a caller that holds every shard of db (a SCAN
// inside EXEC).
func (db *DB) ScanLocked(cursor uint64, count int, now int64, fn func(e *Entry)) uint64 {
	return db.scan(cursor, count, now, fn, nil, false)
}

// ForEachLocked calls fn for every live entry of db; the caller holds
// every shard (KEYS inside EXEC, FLUSH bookkeeping). Expired entries are
// reclaimed on the way.
func (db *DB) ForEachLocked(now int64, fn func(e *Entry)) {
	for s := range db.shards {
		db.shards[s].forEach(now, fn)
	}
}

// ForEach is ForEachLocked locking one shard at a time.
func (db *DB) ForEach(now int64, fn func(e *Entry)) {
	for s := range db.shards {
		sh := &db.shards[s]
		sh.mu.Lock()
		sh.forEach(now, fn)
		sh.mu.Unlock()
	}
}

func (sh *Shard) forEach(now int64, fn func(e *Entry)) {
	for i := len(sh.entries) - 1; i >= 0; i-- {
		if i >= len(sh.entries) {
			continue
		}
		e := sh.entries[i]
		if e.Expired(now) {
			sh.expireEntry(e)
			continue
		}
		fn(e)
	}
}

// ForEachShardLocked calls fn for every live entry of sh, which the
// caller has locked.
func (db *DB) ForEachShardLocked(sh *Shard, now int64, fn func(e *Entry)) { sh.forEach(now, fn) }
