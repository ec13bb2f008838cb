package store

import (
	"hash/maphash"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Observer hears about changes the command handlers do not make
// themselves, and about every change for client-side caching. Its methods
// are called with the key's shard locked: they must be quick and must not
// call back into the store (take only leaf locks).
type Observer interface {
	// KeyModified is called after any change to key: a write, a delete, an
	// expiry, an eviction, a flush (key nil: the whole database). Client
	// tracking invalidates here.
	KeyModified(db int, key []byte)
	// KeyEvent is called for the keyspace events the store itself causes:
	// "expired" (ClassExpired) and "evicted" (ClassEvicted).
	KeyEvent(class Class, event string, db int, key []byte)
}

// Both Observer calls may get key as a view of the entry's own memory,
// valid only during the call: an observer copies what it keeps and never
// writes to key.

// Class is a keyspace-notification class, as notify-keyspace-events
// letters select them.
type Class uint16

// The notification classes (Redis's NOTIFY_* flags).
const (
	ClassKeyspace Class = 1 << iota // K
	ClassKeyevent                   // E
	ClassGeneric                    // g
	ClassString                     // $
	ClassList                       // l
	ClassSet                        // s
	ClassHash                       // h
	ClassZSet                       // z
	ClassExpired                    // x
	ClassEvicted                    // e
	ClassStream                     // t
	ClassKeyMiss                    // m
	ClassModule                     // d
	ClassNew                        // n
)

// Config sizes a Keyspace.
type Config struct {
	Databases int // 16 in Redis
	Shards    int // per database, a power of two
}

// Keyspace is every database of one server.
type Keyspace struct {
	dbs      []*DB
	shards   int
	seed     maphash.Seed
	observer Observer

	mem atomic.Int64 // bytes accounted to every entry

	evict evictor
	// blocks keeps key+value blocks of evicted entries by size class.
	blocks [len(sizeClasses)]sync.Pool

	// expireCursor is where the next active-expiry cycle starts; only
	// the goroutine that runs the cycles touches it.
	expireCursor int

	// Counters read by INFO; updated with atomics only off the hot path
	// (hits and misses are counted per shard).
	expiredKeys    atomic.Int64
	evictedKeys    atomic.Int64
	expiredStale   atomic.Int64 // active-expiry cycles cut short by their time budget
	watchedClients atomic.Int64
}

// New makes a keyspace. obs may be nil.
func New(cfg Config, obs Observer) *Keyspace {
	if cfg.Databases <= 0 {
		cfg.Databases = 16
	}
	if cfg.Shards <= 0 || cfg.Shards&(cfg.Shards-1) != 0 {
		cfg.Shards = 64
	}
	if obs == nil {
		obs = nopObserver{}
	}
	ks := &Keyspace{shards: cfg.Shards, seed: maphash.MakeSeed(), observer: obs}
	ks.evict.init()
	for i := range cfg.Databases {
		db := &DB{ks: ks, id: i, mask: uint64(cfg.Shards - 1), shards: make([]Shard, cfg.Shards)}
		for j := range db.shards {
			sh := &db.shards[j]
			sh.db = db
			sh.ord = i*cfg.Shards + j
		}
		ks.dbs = append(ks.dbs, db)
	}
	return ks
}

type nopObserver struct{}

func (nopObserver) KeyModified(int, []byte)             {}
func (nopObserver) KeyEvent(Class, string, int, []byte) {}

func (ks *Keyspace) rand(n int) int { return rand.IntN(n) }

// DBs is the number of databases.
func (ks *Keyspace) DBs() int { return len(ks.dbs) }

// DB returns database i (0 <= i < DBs()).
func (ks *Keyspace) DB(i int) *DB { return ks.dbs[i] }

// UsedMemory is the bytes accounted to keys and values.
func (ks *Keyspace) UsedMemory() int64 { return ks.mem.Load() }

// ExpiredKeys is the number of keys deleted because their TTL passed.
func (ks *Keyspace) ExpiredKeys() int64 { return ks.expiredKeys.Load() }

// EvictedKeys is the number of keys deleted to stay under maxmemory.
func (ks *Keyspace) EvictedKeys() int64 { return ks.evictedKeys.Load() }

// ResetStats zeroes the counters CONFIG RESETSTAT resets.
func (ks *Keyspace) ResetStats() {
	ks.expiredKeys.Store(0)
	ks.evictedKeys.Store(0)
	ks.expiredStale.Store(0)
	for _, db := range ks.dbs {
		for i := range db.shards {
			sh := &db.shards[i]
			sh.mu.Lock()
			sh.hits, sh.misses = 0, 0
			sh.mu.Unlock()
		}
	}
}

// HitsMisses sums keyspace_hits and keyspace_misses over every shard.
func (ks *Keyspace) HitsMisses() (hits, misses int64) {
	for _, db := range ks.dbs {
		for i := range db.shards {
			sh := &db.shards[i]
			sh.mu.Lock()
			hits += sh.hits
			misses += sh.misses
			sh.mu.Unlock()
		}
	}
	return hits, misses
}

// DB is one numbered database.
type DB struct {
	ks     *Keyspace
	id     int
	mask   uint64
	shards []Shard

	// keyShards and volShards count the shards that hold keys (keys with
	// a TTL), without a lock, so that eviction skips empty databases
	// cheaply. They change only when a shard empties or stops being
	// empty: a count of keys here, updated by every insert and delete
	// from the loop and the evictor on the other core, cost a contended
	// cache line per SET under eviction (12% of the loop's time).
	keyShards, volShards atomic.Int64
}

// ID is the database's index (SELECT's argument).
func (db *DB) ID() int { return db.id }

// Shard holds the keys of a DB that hash to it, behind its own mutex.
type Shard struct {
	mu  sync.Mutex
	db  *DB
	ord int // position in the global lock order

	keys     index    // key -> entry
	entries  []*Entry // every entry, for sampling and SCAN
	atimes   []uint32 // LRU clock of entries[i] (Unix ms, wrapping)
	volatile []*Entry // entries with a TTL
	mem      int64

	hits, misses int64

	// hasKeys and hasVol say whether entries and volatile are non-empty,
	// for readers that hold no lock (eviction's choice of a shard to
	// sample). They change only when a shard empties or stops being
	// empty: a count updated by every insert cost a locked instruction
	// per SET, which waited for the insert's stores to cold lines of the
	// entry slices (10% of the server's CPU under eviction).
	hasKeys, hasVol atomic.Bool

	watched map[string][]*Watch // nil while nobody watches a key here

	owner any // LockSet.Owner of the set that holds the shard, if any

	snap    *Snapshot // set while a snapshot waits for this shard's image
	snapPos int       // entries[:snapPos] are in that image (see captureChunk)
	// stash holds, while snap is set, the records (as they were when the
	// snapshot began) of keys that have changed since, at or after
	// snapPos; nil for a key that had no entry then.
	stash map[string][]byte
}

// Owner is the Owner of the LockSet that holds the shard locked, nil when
// it was locked otherwise (active expiry, eviction, a LockShard). Call it
// with the shard locked, typically from an Observer.
func (sh *Shard) Owner() any { return sh.owner }

// Lock locks the shard for a caller that may change any of its keys: one
// a snapshot waits for is serialized into it first. (The store's own
// readers, active expiry and eviction lock plainly: all they change is
// which entries exist, and inserts and deletes keep what the image needs;
// see keepDetached and keepAbsent.) Prefer a LockSet when locking more
// than one shard.
func (sh *Shard) Lock() {
	sh.mu.Lock()
	if sh.snap != nil {
		sh.capture(len(sh.entries))
	}
}

// LockRead locks the shard for a caller that only reads it (and at most
// deletes expired keys): one a snapshot waits for is left to the
// snapshot's writer rather than serialized now.
func (sh *Shard) LockRead() { sh.mu.Lock() }

// Unlock unlocks the shard.
func (sh *Shard) Unlock() { sh.mu.Unlock() }

// Len is the number of keys in the shard (expired ones included until
// they are reclaimed).
func (sh *Shard) Len() int { return len(sh.entries) }

// Counts is the number of keys and of keys with a TTL in a locked shard.
func (sh *Shard) Counts() (keys, volatile int) { return len(sh.entries), len(sh.volatile) }

// Shards is the number of shards of each database.
func (db *DB) Shards() int { return len(db.shards) }

// ShardAt returns the i-th shard of db.
func (db *DB) ShardAt(i int) *Shard { return &db.shards[i] }

// ShardOf returns the shard that holds key.
func (db *DB) ShardOf(key []byte) *Shard {
	return &db.shards[maphash.Bytes(db.ks.seed, key)&db.mask]
}

// locate is key's shard and its tag in the shard's index, from one hash.
func (db *DB) locate(key []byte) (*Shard, uint32) {
	h := maphash.Bytes(db.ks.seed, key)
	return &db.shards[h&db.mask], tagOf(h)
}

// peek is key's entry in a locked shard sh, found by its string.
func (sh *Shard) peek(key string) *Entry {
	return sh.keys.getString(key, tagOf(maphash.String(sh.db.ks.seed, key)))
}

// peekString is Peek for a key held as a string, hashed once; its shard
// must be locked.
func (db *DB) peekString(key string) *Entry {
	h := maphash.String(db.ks.seed, key)
	return db.shards[h&db.mask].keys.getString(key, tagOf(h))
}

// ShardIndex is the index of key's shard.
func (db *DB) ShardIndex(key []byte) int { return int(maphash.Bytes(db.ks.seed, key) & db.mask) }

// Lookup flags.
type LookupFlags uint8

const (
	// NoTouch leaves the LRU/LFU data as it is (CLIENT NO-TOUCH, TYPE,
	// OBJECT, ...).
	NoTouch LookupFlags = 1 << iota
	// NoStats does not count a keyspace hit or miss.
	NoStats
)

// Get returns key's entry, or nil when the key does not exist or has
// expired (an expired key is deleted on the way, as Redis does lazily).
// A found key's access time and LFU counter are updated and a keyspace hit
// or miss is counted. key's shard must be locked.
func (db *DB) Get(key []byte, now int64) *Entry {
	return db.Lookup(key, now, 0)
}

// Lookup is Get with flags.
func (db *DB) Lookup(key []byte, now int64, flags LookupFlags) *Entry {
	sh, tag := db.locate(key)
	e := sh.keys.get(key, tag)
	if e != nil && e.expire != 0 && e.expire <= now {
		sh.expireEntry(e)
		e = nil
	}
	if flags&NoStats == 0 {
		if e == nil {
			sh.misses++
		} else {
			sh.hits++
		}
	}
	if e != nil && flags&NoTouch == 0 {
		db.ks.touchAccess(sh, e, now)
	}
	return e
}

// Peek returns key's entry without side effects: no expiry, no access
// update, no stats. The entry may be logically expired (see Expired).
func (db *DB) Peek(key []byte) *Entry {
	sh, tag := db.locate(key)
	return sh.keys.get(key, tag)
}

// Exists reports whether key exists and has not expired, without touching
// it (an expired key is reclaimed).
func (db *DB) Exists(key []byte, now int64) bool {
	return db.Lookup(key, now, NoTouch|NoStats) != nil
}

// Expired reports whether e's TTL has passed at now.
func (e *Entry) Expired(now int64) bool { return e.expire != 0 && e.expire <= now }

func keyString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// newEntryRecycled is newStringEntry for a new key, reusing the block of
// an evicted entry of the same size class when eviction left one.
func (ks *Keyspace) newEntryRecycled(key, val []byte) *Entry {
	n := len(key) + len(val)
	if ci := sizeClassIndex(n); ci >= 0 {
		if bp, ok := ks.blocks[ci].Get().(*[]byte); ok {
			buf := (*bp)[:n]
			copy(buf, key)
			copy(buf[len(key):], val)
			return &Entry{key: keyString(buf[:len(key)]), Str: buf[len(key):n:cap(buf)]}
		}
	}
	return newStringEntry(key, val, 0)
}

// recycle keeps the key+value block of an evicted string entry for a new
// key of the same size class: a cache at maxmemory replaces keys all the
// time, and reusing blocks spares the allocator and the collector. Only
// eviction recycles: no command holds an evicted entry.
func (ks *Keyspace) recycle(e *Entry) {
	if e.Obj != nil || cap(e.Str) == 0 {
		return
	}
	block := unsafe.Slice(unsafe.StringData(e.key), len(e.key)+cap(e.Str))
	if ci := sizeClassIndex(len(block)); ci >= 0 && sizeClasses[ci] == len(block) {
		e.Str, e.key = nil, ""
		ks.blocks[ci].Put(&block)
	}
}

// newStringEntry allocates key and value in one block.
func newStringEntry(key, val []byte, extra int) *Entry {
	n := len(key) + len(val)
	buf := make([]byte, n, AllocSize(max(n+extra, 1)))
	copy(buf, key)
	copy(buf[len(key):], val)
	return &Entry{key: keyString(buf[:len(key)]), Str: buf[len(key):n:cap(buf)]}
}

// SetOptions control Set.
type SetOptions struct {
	// KeepTTL keeps an existing key's expiry (SET KEEPTTL); otherwise the
	// expiry becomes Expire (0: none).
	KeepTTL bool
	Expire  int64
}

// Set stores a string value under key, replacing any value of any type,
// and returns the entry. The value is copied. key's shard must be locked.
func (db *DB) Set(key, val []byte, now int64, opt SetOptions) *Entry {
	sh, tag := db.locate(key)
	e := sh.keys.get(key, tag)
	if e != nil && e.Expired(now) {
		sh.expireEntry(e)
		e = nil
	}
	if e == nil {
		e = db.ks.newEntryRecycled(key, val)
		e.expire = opt.Expire
		sh.insert(e, now, tag)
	} else {
		exp := opt.Expire
		if opt.KeepTTL {
			exp = e.expire
		}
		sh.setString(e, val)
		sh.setExpire(e, exp)
		db.ks.touchAccess(sh, e, now)
		sh.account(e)
	}
	sh.modified(key)
	return e
}

// setString replaces e's value with a copy of val, in place when it fits.
func (sh *Shard) setString(e *Entry, val []byte) {
	if sh.snap != nil {
		sh.keep(e)
	}
	e.flags &^= flagRaw
	if e.Obj == nil && cap(e.Str) >= len(val) && cap(e.Str) <= 2*len(val)+64 {
		e.Str = e.Str[:len(val)]
		copy(e.Str, val)
		return
	}
	ne := newStringEntry([]byte(e.key), val, 0)
	e.Obj = nil
	e.Str = ne.Str
	sh.rekey(e, ne.key)
}

// GrowString makes room for n more bytes after e's string value (APPEND,
// SETRANGE) and returns the longer value, whose new bytes are zero. It
// accounts for the new size. e must be a string entry of a locked shard.
func (db *DB) GrowString(e *Entry, n int) []byte {
	sh := db.ShardOf([]byte(e.key))
	if sh.snap != nil {
		sh.keep(e)
	}
	old := len(e.Str)
	if cap(e.Str)-old >= n {
		e.Str = e.Str[:old+n]
		clear(e.Str[old:])
	} else {
		// Grow geometrically, like sds, so that repeated APPENDs are
		// amortized O(1).
		ne := newStringEntry([]byte(e.key), e.Str, max(n, old+n))
		ne.Str = ne.Str[:old+n]
		clear(ne.Str[old:])
		e.Str = ne.Str
		sh.rekey(e, ne.key)
	}
	e.flags |= flagRaw
	sh.account(e)
	return e.Str
}

// rekey points e at a new string for the same key (so that the memory
// the old key shared with an old value can be freed); the index holds e
// itself, not the string.
func (sh *Shard) rekey(e *Entry, key string) { e.key = key }

// SetObject stores obj under key, replacing any value of any type; the
// expiry is kept only if keepTTL. key's shard must be locked.
func (db *DB) SetObject(key []byte, obj Object, now int64, keepTTL bool) *Entry {
	sh, tag := db.locate(key)
	e := sh.keys.get(key, tag)
	if e != nil && e.Expired(now) {
		sh.expireEntry(e)
		e = nil
	}
	if e == nil {
		e = &Entry{key: string(key), Obj: obj}
		sh.insert(e, now, tag)
	} else {
		if sh.snap != nil {
			sh.keep(e)
		}
		if e.Obj == nil {
			sh.rekey(e, string(key)) // drop the block shared with the old string
		}
		e.Obj, e.Str = obj, nil
		if !keepTTL {
			sh.setExpire(e, 0)
		}
		db.ks.touchAccess(sh, e, now)
		sh.account(e)
	}
	sh.modified(key)
	return e
}

// Updated records that e's value was changed in place: it re-accounts its
// memory and invalidates WATCH and client tracking for it. Call it once
// after every in-place change of Obj or Str.
func (db *DB) Updated(e *Entry) {
	key := e.keyBytes()
	sh := db.ShardOf(key)
	sh.account(e)
	sh.modified(key)
}

// keyBytes is e's key as a []byte without a copy, for lookups and the
// Observer: it must not be written to or kept.
func (e *Entry) keyBytes() []byte { return unsafe.Slice(unsafe.StringData(e.key), len(e.key)) }

// Touched records a change of key that did not go through the store
// (a value type's own bookkeeping): WATCH and tracking invalidation only.
func (db *DB) Touched(key []byte) { db.ShardOf(key).modified(key) }

// Delete removes key and reports whether it existed (an expired key counts
// as not existing, and is reclaimed). key's shard must be locked.
func (db *DB) Delete(key []byte, now int64) bool {
	sh, tag := db.locate(key)
	e := sh.keys.get(key, tag)
	if e == nil {
		return false
	}
	if e.Expired(now) {
		sh.expireEntry(e)
		return false
	}
	sh.remove(e)
	sh.modified(key)
	return true
}

// Unlink removes the entry e (found by Get in this call) from its shard.
func (db *DB) Unlink(e *Entry) {
	sh := db.ShardOf([]byte(e.key))
	sh.remove(e)
	sh.modified([]byte(e.key))
}

// SetExpire sets (at > 0) or removes (at == 0) e's expiry; the caller
// has checked that e is live. It counts as a change of the key.
func (db *DB) SetExpire(e *Entry, at int64) {
	sh := db.ShardOf([]byte(e.key))
	sh.setExpire(e, at)
	sh.account(e)
	sh.modified([]byte(e.key))
}

// Rename moves src's entry to dst (replacing dst) in the same or another
// database, keeping its value, expiry and metadata. Both shards must be
// locked and src must exist.
func (db *DB) Rename(src []byte, dstDB *DB, dst []byte, now int64) *Entry {
	ssh, stag := db.locate(src)
	e := ssh.keys.get(src, stag)
	atime := ssh.atimes[e.idx]
	ssh.remove(e)
	ssh.modified(src)
	dsh, dtag := dstDB.locate(dst)
	if old := dsh.keys.get(dst, dtag); old != nil {
		dsh.remove(old)
	}
	ne := &Entry{Obj: e.Obj, expire: e.expire, ctime: e.ctime, lfu: e.lfu, flags: e.flags}
	if e.Obj == nil {
		ne = newStringEntry(dst, e.Str, 0)
		ne.expire, ne.ctime, ne.lfu, ne.flags = e.expire, e.ctime, e.lfu, e.flags
	} else {
		ne.key = string(dst)
	}
	dsh.insertKeepMeta(ne, atime, dtag)
	dsh.modified(dst)
	return ne
}

// Insert stores e under key as a new entry, for COPY and RESTORE: key
// must not exist (or be expired). e's value is used as given.
func (db *DB) Insert(key []byte, str []byte, obj Object, expire int64, now int64) *Entry {
	sh, tag := db.locate(key)
	if old := sh.keys.get(key, tag); old != nil {
		sh.remove(old)
	}
	var e *Entry
	if obj == nil {
		e = newStringEntry(key, str, 0)
	} else {
		e = &Entry{key: string(key), Obj: obj}
	}
	e.expire = expire
	sh.insert(e, now, tag)
	sh.modified(key)
	return e
}

// insert adds the new entry e, whose key's index tag is tag.
func (sh *Shard) insert(e *Entry, now int64, tag uint32) {
	e.ctime = now
	sh.db.ks.initAccess(e, now)
	sh.insertKeepMeta(e, lruClock(now), tag)
}

func (sh *Shard) insertKeepMeta(e *Entry, atime uint32, tag uint32) {
	if sh.snap != nil {
		sh.keepAbsent(e.key)
	}
	e.tag = tag
	sh.keys.add(e)
	e.idx = uint32(len(sh.entries))
	sh.entries = append(sh.entries, e)
	sh.atimes = append(sh.atimes, atime)
	if len(sh.entries) == 1 {
		sh.hasKeys.Store(true)
		sh.db.keyShards.Add(1)
	}
	if e.expire != 0 {
		sh.addVolatile(e)
	}
	sh.account(e)
	// Redis's dbAdd: every key that comes into being (not one loaded
	// from a snapshot) is a "new" keyspace event (class n).
	sh.db.ks.observer.KeyEvent(ClassNew, "new", sh.db.id, unsafe.Slice(unsafe.StringData(e.key), len(e.key)))
}

// remove deletes e from the shard's structures. Entries only ever move to
// a lower index here, which is what SCAN's guarantee rests on.
func (sh *Shard) remove(e *Entry) { sh.db.ks.mem.Add(-sh.detach(e)) }

// detach is remove but for the keyspace's memory total: it returns the
// bytes e held, for the caller to take off it.
func (sh *Shard) detach(e *Entry) int64 {
	if sh.snap != nil {
		sh.keepDetached(e)
	}
	sh.keys.del(e)
	last := len(sh.entries) - 1
	moved := sh.entries[last]
	sh.entries[e.idx] = moved
	sh.atimes[e.idx] = sh.atimes[last]
	moved.idx = e.idx
	sh.entries[last] = nil
	sh.entries = sh.entries[:last]
	sh.atimes = sh.atimes[:last]
	if last == 0 {
		sh.hasKeys.Store(false)
		sh.db.keyShards.Add(-1)
	}
	if e.expire != 0 {
		sh.removeVolatile(e)
	}
	freed := int64(e.mem)
	sh.mem -= freed
	e.mem = 0
	sh.maybeShrink()
	return freed
}

func (sh *Shard) addVolatile(e *Entry) {
	e.vidx = uint32(len(sh.volatile))
	sh.volatile = append(sh.volatile, e)
	if len(sh.volatile) == 1 {
		sh.hasVol.Store(true)
		sh.db.volShards.Add(1)
	}
}

func (sh *Shard) removeVolatile(e *Entry) {
	last := len(sh.volatile) - 1
	if last == 0 {
		sh.hasVol.Store(false)
		sh.db.volShards.Add(-1)
	}
	moved := sh.volatile[last]
	sh.volatile[e.vidx] = moved
	moved.vidx = e.vidx
	sh.volatile[last] = nil
	sh.volatile = sh.volatile[:last]
}

// maybeShrink gives back the memory of slices that emptied out.
func (sh *Shard) maybeShrink() {
	if c := cap(sh.entries); c > 1024 && len(sh.entries) < c/8 {
		sh.entries = append([]*Entry(nil), sh.entries...)
		sh.atimes = append([]uint32(nil), sh.atimes...)
	}
	if c := cap(sh.volatile); c > 1024 && len(sh.volatile) < c/8 {
		sh.volatile = append([]*Entry(nil), sh.volatile...)
	}
}

func (sh *Shard) setExpire(e *Entry, at int64) {
	if sh.snap != nil {
		sh.keep(e)
	}
	switch {
	case e.expire == 0 && at != 0:
		sh.addVolatile(e)
	case e.expire != 0 && at == 0:
		sh.removeVolatile(e)
	}
	e.expire = at
}

// account brings e's accounted size up to date.
func (sh *Shard) account(e *Entry) {
	n := int32(entryMem(e))
	if d := int64(n - e.mem); d != 0 {
		sh.mem += d
		sh.db.ks.mem.Add(d)
		e.mem = n
	}
}

// expireEntry deletes e because its TTL passed, with the "expired" event.
func (sh *Shard) expireEntry(e *Entry) {
	key := []byte(e.key) // the event outlives the entry's memory reuse
	sh.remove(e)
	sh.db.ks.expiredKeys.Add(1)
	sh.modified(key)
	sh.db.ks.observer.KeyEvent(ClassExpired, "expired", sh.db.id, key)
}

// modified invalidates WATCHes of key and tells the observer.
func (sh *Shard) modified(key []byte) {
	if sh.watched != nil {
		if ws := sh.watched[string(key)]; ws != nil {
			for _, w := range ws {
				w.dirty.Store(true)
			}
		}
	}
	sh.db.ks.observer.KeyModified(sh.db.id, key)
}

// Size is the number of keys in db (expired keys not yet reclaimed
// included, as DBSIZE counts them in Redis). It locks each shard in turn.
func (db *DB) Size() int {
	n := 0
	for i := range db.shards {
		sh := &db.shards[i]
		sh.mu.Lock()
		n += len(sh.entries)
		sh.mu.Unlock()
	}
	return n
}

// SizeLocked is Size for a caller that holds every shard of db.
func (db *DB) SizeLocked() (keys, volatile int) {
	for i := range db.shards {
		keys += len(db.shards[i].entries)
		volatile += len(db.shards[i].volatile)
	}
	return keys, volatile
}

// Flush deletes every key of db; its shards must all be locked. Watchers
// of keys that existed are invalidated.
func (db *DB) Flush() {
	for i := range db.shards {
		sh := &db.shards[i]
		if sh.watched != nil {
			for k, ws := range sh.watched {
				if sh.peek(k) != nil {
					for _, w := range ws {
						w.dirty.Store(true)
					}
				}
			}
		}
		db.ks.mem.Add(-sh.mem)
		sh.mem = 0
		sh.keys = index{}
		sh.entries = nil
		sh.atimes = nil
		sh.volatile = nil
		if sh.hasKeys.Swap(false) {
			db.keyShards.Add(-1)
		}
		if sh.hasVol.Swap(false) {
			db.volShards.Add(-1)
		}
	}
	db.ks.observer.KeyModified(db.id, nil)
}

// Swap exchanges the contents of two databases (SWAPDB); every shard of
// both must be locked. Watchers stay with their database index and are
// invalidated for keys that exist in either.
func (db *DB) Swap(other *DB) {
	if db == other {
		return
	}
	for i := range db.shards {
		a, b := &db.shards[i], &other.shards[i]
		for _, sh := range []*Shard{a, b} {
			if sh.watched == nil {
				continue
			}
			for k, ws := range sh.watched {
				if a.peek(k) != nil || b.peek(k) != nil {
					for _, w := range ws {
						w.dirty.Store(true)
					}
				}
			}
		}
		a.keys, b.keys = b.keys, a.keys
		a.entries, b.entries = b.entries, a.entries
		a.atimes, b.atimes = b.atimes, a.atimes
		a.volatile, b.volatile = b.volatile, a.volatile
		a.mem, b.mem = b.mem, a.mem
		an, bn := a.hasKeys.Load(), b.hasKeys.Load()
		a.hasKeys.Store(bn)
		b.hasKeys.Store(an)
		av, bv := a.hasVol.Load(), b.hasVol.Load()
		a.hasVol.Store(bv)
		b.hasVol.Store(av)
		db.keyShards.Add(b2i(bn) - b2i(an))
		other.keyShards.Add(b2i(an) - b2i(bn))
		db.volShards.Add(b2i(bv) - b2i(av))
		other.volShards.Add(b2i(av) - b2i(bv))
	}
	db.ks.observer.KeyModified(db.id, nil)
	db.ks.observer.KeyModified(other.id, nil)
}

// b2i is 1 for true, else 0.
func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// RandomKey returns a random live key of db, or nil if it is empty. It
// locks shards one at a time.
func (db *DB) RandomKey(now int64) []byte {
	for tries := 0; tries < 100; tries++ {
		// Pick a non-empty shard with probability proportional to its size
		// by trying random shards, then a random entry in it.
		start := rand.IntN(len(db.shards))
		for j := range db.shards {
			sh := &db.shards[(start+j)&int(db.mask)]
			sh.mu.Lock()
			if len(sh.entries) == 0 {
				sh.mu.Unlock()
				continue
			}
			e := sh.entries[rand.IntN(len(sh.entries))]
			if e.Expired(now) {
				sh.expireEntry(e)
				sh.mu.Unlock()
				break
			}
			k := []byte(e.key)
			sh.mu.Unlock()
			return k
		}
		if db.Size() == 0 {
			return nil
		}
	}
	return nil
}

// RandomKeyLocked is RandomKey for a caller that holds every shard of db.
func (db *DB) RandomKeyLocked(now int64) []byte {
	total := 0
	for i := range db.shards {
		total += len(db.shards[i].entries)
	}
	for total > 0 {
		n := rand.IntN(total)
		for i := range db.shards {
			sh := &db.shards[i]
			if n >= len(sh.entries) {
				n -= len(sh.entries)
				continue
			}
			e := sh.entries[n]
			if e.Expired(now) {
				sh.expireEntry(e)
				total--
				break
			}
			return []byte(e.key)
		}
	}
	return nil
}

// LockSet locks a set of shards, possibly of several databases, in the
// global order. The zero value is empty; Reset reuses it.
type LockSet struct {
	shards []*Shard
	// keys are the keys Add named, for a snapshot (see Lock); unkeyed
	// says a shard was added without its keys (AddShard, AddDB, AddAll).
	keys    []lockedKey
	unkeyed bool
	locked  bool
	// Owner, when set, is recorded on every shard while the set holds it
	// (Shard.Owner): the server sets it to the client, so that a change
	// observer can tell which client made a change.
	Owner any
	// ReadOnly says the holder will not change the shards' keys or values
	// (a read-only command; lazy expiry of a key that has expired since a
	// snapshot began does not count: loading skips it anyway). Lock then
	// leaves a shard that a snapshot waits for to the snapshot's writer
	// instead of serializing it, and Unlock clears the field.
	ReadOnly bool
}

// lockedKey is a key a LockSet's holder may change.
type lockedKey struct {
	db  *DB
	key []byte
}

// Add includes key's shard of db: the holder changes key there, if
// anything. key must stay unchanged until Unlock.
func (ls *LockSet) Add(db *DB, key []byte) {
	ls.shards = append(ls.shards, db.ShardOf(key))
	ls.keys = append(ls.keys, lockedKey{db, key})
}

// AddShard includes sh, for a holder that may change any key of it.
func (ls *LockSet) AddShard(sh *Shard) {
	ls.shards = append(ls.shards, sh)
	ls.unkeyed = true
}

// AddDB includes every shard of db.
func (ls *LockSet) AddDB(db *DB) {
	ls.unkeyed = true
	for i := range db.shards {
		ls.shards = append(ls.shards, &db.shards[i])
	}
}

// AddAll includes every shard of every database.
func (ls *LockSet) AddAll(ks *Keyspace) {
	for _, db := range ks.dbs {
		ls.AddDB(db)
	}
}

// Len is the number of distinct shards after Lock.
func (ls *LockSet) Len() int { return len(ls.shards) }

// Lock sorts and de-duplicates the set, then locks it.
func (ls *LockSet) Lock() {
	s := ls.shards
	if len(s) > 1 {
		if len(s) == 2 {
			if s[0].ord > s[1].ord {
				s[0], s[1] = s[1], s[0]
			}
		} else {
			sort.Slice(s, func(i, j int) bool { return s[i].ord < s[j].ord })
		}
		out := s[:1]
		for _, sh := range s[1:] {
			if sh != out[len(out)-1] {
				out = append(out, sh)
			}
		}
		ls.shards = out
	}
	marked := false
	for _, sh := range ls.shards {
		sh.mu.Lock()
		sh.owner = ls.Owner
		marked = marked || sh.snap != nil
	}
	ls.locked = true
	if marked && !ls.ReadOnly {
		ls.keepForSnapshot()
	}
}

// Unlock unlocks every shard and empties the set for reuse.
func (ls *LockSet) Unlock() {
	if ls.locked {
		for i := len(ls.shards) - 1; i >= 0; i-- {
			ls.shards[i].owner = nil
			ls.shards[i].mu.Unlock()
		}
	}
	ls.locked = false
	ls.ReadOnly = false
	ls.unkeyed = false
	clear(ls.keys)
	ls.keys = ls.keys[:0]
	clear(ls.shards)
	ls.shards = ls.shards[:0]
}

// Holds reports whether the locked set includes sh.
func (ls *LockSet) Holds(sh *Shard) bool {
	if !ls.locked {
		return false
	}
	for _, s := range ls.shards {
		if s == sh {
			return true
		}
	}
	return false
}
