package store

import (
	"sync/atomic"
	"unsafe"
)

// Watch is one client's WATCHed keys. It turns dirty when any of them is
// changed (written, deleted, expired, evicted, flushed, swapped).
type Watch struct {
	dirty atomic.Bool
	keys  []watched
}

type watched struct {
	db      *DB
	key     string
	expired bool // the key was logically expired when watched
}

// Dirty reports whether a watched key changed since it was watched.
func (w *Watch) Dirty() bool { return w.dirty.Load() }

// Len is the number of watched keys.
func (w *Watch) Len() int { return len(w.keys) }

// AddLocks adds the shards of every watched key to ls (EXEC locks them
// with its own keys, so that the check and the commands are atomic). They
// are added by key, so that a save in progress keeps those keys' records
// rather than serializing their shards whole.
func (w *Watch) AddLocks(ls *LockSet) {
	for _, k := range w.keys {
		ls.Add(k.db, unsafe.Slice(unsafe.StringData(k.key), len(k.key)))
	}
}

// Watch adds key of db to w; key's shard must be locked. Watching a key
// twice is a no-op.
func (db *DB) Watch(w *Watch, key []byte, now int64) {
	for _, k := range w.keys {
		if k.db == db && k.key == string(key) {
			return
		}
	}
	sh, tag := db.locate(key)
	ks := string(key)
	e := sh.keys.get(key, tag)
	w.keys = append(w.keys, watched{db: db, key: ks, expired: e != nil && e.Expired(now)})
	if sh.watched == nil {
		sh.watched = make(map[string][]*Watch)
	}
	sh.watched[ks] = append(sh.watched[ks], w)
	if len(w.keys) == 1 {
		db.ks.watchedClients.Add(1)
	}
}

// ExpiredSinceWatch reports whether a key that was live when watched has
// expired since (Redis fails EXEC then, even though nothing deleted the
// key yet). The watched keys' shards must be locked.
func (w *Watch) ExpiredSinceWatch(now int64) bool {
	for _, k := range w.keys {
		if k.expired {
			continue
		}
		if e := k.db.peekString(k.key); e != nil && e.Expired(now) {
			return true
		}
	}
	return false
}

// Unwatch forgets every watched key of w and clears its dirty flag. It
// locks the shards one at a time, so the caller must hold none.
func (ks *Keyspace) Unwatch(w *Watch) {
	if len(w.keys) == 0 {
		w.dirty.Store(false)
		return
	}
	for _, k := range w.keys {
		sh := k.db.ShardOf([]byte(k.key))
		sh.mu.Lock()
		sh.unwatch(w, k.key)
		sh.mu.Unlock()
	}
	w.keys = w.keys[:0]
	w.dirty.Store(false)
	ks.watchedClients.Add(-1)
}

// UnwatchLocked is Unwatch for a caller that holds every watched key's
// shard (EXEC).
func (ks *Keyspace) UnwatchLocked(w *Watch) {
	if len(w.keys) == 0 {
		w.dirty.Store(false)
		return
	}
	for _, k := range w.keys {
		k.db.ShardOf([]byte(k.key)).unwatch(w, k.key)
	}
	w.keys = w.keys[:0]
	w.dirty.Store(false)
	ks.watchedClients.Add(-1)
}

func (sh *Shard) unwatch(w *Watch, key string) {
	ws := sh.watched[key]
	for i, x := range ws {
		if x == w {
			ws[i] = ws[len(ws)-1]
			ws[len(ws)-1] = nil
			ws = ws[:len(ws)-1]
			break
		}
	}
	if len(ws) == 0 {
		delete(sh.watched, key)
		if len(sh.watched) == 0 {
			sh.watched = nil
		}
	} else {
		sh.watched[key] = ws
	}
}

// WatchingClients is the number of clients with watched keys (INFO
// watching_clients).
func (ks *Keyspace) WatchingClients() int64 { return ks.watchedClients.Load() }

// WatchedKeys counts the distinct watched keys (INFO watched_keys).
func (ks *Keyspace) WatchedKeys() int {
	n := 0
	for _, db := range ks.dbs {
		for i := range db.shards {
			sh := &db.shards[i]
			sh.mu.Lock()
			n += len(sh.watched)
			sh.mu.Unlock()
		}
	}
	return n
}
