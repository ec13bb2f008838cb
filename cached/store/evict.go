package store

import (
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// Policy is a maxmemory-policy.
type Policy int32

// The eviction policies: Redis's eight, and FIFO (oldest key first) over
// all keys or the keys with a TTL.
const (
	NoEviction Policy = iota
	AllKeysLRU
	AllKeysLFU
	AllKeysRandom
	VolatileLRU
	VolatileLFU
	VolatileRandom
	VolatileTTL
	AllKeysFIFO
	VolatileFIFO
)

var policyNames = [...]string{"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
	"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-fifo", "volatile-fifo"}

// String is the policy's config name.
func (p Policy) String() string { return policyNames[p] }

// ParsePolicy maps a config name to its Policy.
func ParsePolicy(s string) (Policy, bool) {
	for i, n := range policyNames {
		if n == s {
			return Policy(i), true
		}
	}
	return 0, false
}

// PolicyNames lists every policy name.
func PolicyNames() []string { return policyNames[:] }

func (p Policy) volatile() bool {
	return p == VolatileLRU || p == VolatileLFU || p == VolatileRandom || p == VolatileTTL || p == VolatileFIFO
}

// IsLFU reports whether p ranks keys by access frequency (OBJECT FREQ
// works only then).
func (p Policy) IsLFU() bool { return p == AllKeysLFU || p == VolatileLFU }

// IsLRU reports whether p ranks keys by idle time.
func (p Policy) IsLRU() bool { return p == AllKeysLRU || p == VolatileLRU }

const (
	poolSize       = 16 // EVPOOL_SIZE
	DefaultSamples = 5
)

type poolEntry struct {
	score uint64 // higher is evicted first
	sh    *Shard
	e     *Entry // identifies the candidate (entries are never reused)
	idx   uint32 // e's index in sh.entries when it was sampled
}

// evictor holds the maxmemory settings and Redis's eviction pool: the best
// candidates seen by sampling, kept across calls so that each eviction
// benefits from earlier samples.
type evictor struct {
	maxmemory atomic.Int64
	policy    atomic.Int32
	samples   atomic.Int32
	access    accessParams

	mu   sync.Mutex // guards pool and freed; taken before any shard lock, never under one
	pool []poolEntry
	// freed is memory evicted but not yet taken off Keyspace.mem: the
	// evictor subtracts it in steps of freeStep, so that the counter's
	// cache line, which the event loop reads and writes on every write
	// command, does not move to the evictor's core on every key.
	freed int64
}

// freeStep is how much evicted memory the evictor gathers before it
// updates the keyspace's total.
const freeStep = 16 << 10

func (ev *evictor) init() {
	ev.samples.Store(DefaultSamples)
	ev.access.logFactor.Store(DefaultLFULogFactor)
	ev.access.decayTime.Store(DefaultLFUDecayTime)
	ev.pool = make([]poolEntry, 0, poolSize)
}

// SetMaxMemory sets maxmemory in bytes (0: no limit).
func (ks *Keyspace) SetMaxMemory(n int64) { ks.evict.maxmemory.Store(n) }

// MaxMemory is the configured limit.
func (ks *Keyspace) MaxMemory() int64 { return ks.evict.maxmemory.Load() }

// SetPolicy sets maxmemory-policy. The pool is emptied, since its scores
// meant something else.
func (ks *Keyspace) SetPolicy(p Policy) {
	ks.evict.mu.Lock()
	ks.evict.policy.Store(int32(p))
	ks.evict.pool = ks.evict.pool[:0]
	ks.evict.mu.Unlock()
}

// Policy is the current maxmemory-policy.
func (ks *Keyspace) Policy() Policy { return Policy(ks.evict.policy.Load()) }

// SetSamples sets maxmemory-samples.
func (ks *Keyspace) SetSamples(n int) { ks.evict.samples.Store(int32(n)) }

// OverLimit reports whether used memory exceeds maxmemory.
func (ks *Keyspace) OverLimit() bool {
	max := ks.evict.maxmemory.Load()
	return max > 0 && ks.mem.Load() > max
}

// Evict deletes keys by the policy until used memory is within maxmemory.
// It reports false when it cannot get there (noeviction, or nothing the
// policy may evict): a command that would add memory must then be
// refused with OOM. The caller must hold no shard lock.
func (ks *Keyspace) Evict(now int64) bool {
	return ks.EvictBelow(now, ks.evict.maxmemory.Load())
}

// EvictBelow is Evict with a target under maxmemory: it deletes keys
// until used memory is at most target (a background evictor that frees
// some room at once is woken less often).
func (ks *Keyspace) EvictBelow(now, target int64) bool {
	if !ks.OverLimit() {
		return true
	}
	ev := &ks.evict
	ev.mu.Lock()
	defer ev.mu.Unlock()
	p := Policy(ev.policy.Load())
	if p == NoEviction {
		return false
	}
	defer ev.flushFreed(ks)
	for fails := 0; ks.mem.Load()-ev.freed > target; {
		if ev.freed >= freeStep {
			ev.flushFreed(ks)
		}
		var ok bool
		if p == AllKeysRandom || p == VolatileRandom {
			ok = ks.evictRandom(p, now)
		} else {
			ok = ks.evictFromPool(p, now)
		}
		if ok {
			fails = 0
			continue
		}
		if fails++; fails > 8 {
			return false
		}
	}
	return true
}

// flushFreed takes the memory evicted so far off the keyspace's total.
// ev.mu is held.
func (ev *evictor) flushFreed(ks *Keyspace) {
	if ev.freed != 0 {
		ks.mem.Add(-ev.freed)
		ev.freed = 0
	}
}

// nonEmptyShard locks and returns a random shard of db that has keys (or
// keys with a TTL), or returns nil. Empty databases and shards are skipped
// by their lock-free counts.
func (ks *Keyspace) nonEmptyShard(db *DB, volatile bool) *Shard {
	if (volatile && db.volShards.Load() == 0) || (!volatile && db.keyShards.Load() == 0) {
		return nil
	}
	start := rand.IntN(len(db.shards))
	for j := range db.shards {
		sh := &db.shards[(start+j)&int(db.mask)]
		if (volatile && !sh.hasVol.Load()) || (!volatile && !sh.hasKeys.Load()) {
			continue
		}
		sh.mu.Lock()
		n := len(sh.entries)
		if volatile {
			n = len(sh.volatile)
		}
		if n > 0 {
			return sh // locked
		}
		sh.mu.Unlock()
	}
	return nil
}

func (ks *Keyspace) evictRandom(p Policy, now int64) bool {
	start := rand.IntN(len(ks.dbs))
	for i := range ks.dbs {
		db := ks.dbs[(start+i)%len(ks.dbs)]
		sh := ks.nonEmptyShard(db, p.volatile())
		if sh == nil {
			continue
		}
		list := sh.entries
		if p.volatile() {
			list = sh.volatile
		}
		sh.evictEntry(list[rand.IntN(len(list))])
		sh.mu.Unlock()
		return true
	}
	return false
}

// score ranks an entry of sh for eviction: higher goes first. atime is
// its LRU clock.
func (ks *Keyspace) score(p Policy, e *Entry, atime uint32, now int64) uint64 {
	switch p {
	case AllKeysLRU, VolatileLRU:
		return uint64(lruClock(now) - atime)
	case AllKeysLFU, VolatileLFU:
		return 255 - uint64(ks.lfuDecr(e, now))
	case VolatileTTL:
		return math.MaxUint64 - uint64(e.expire)
	case AllKeysFIFO, VolatileFIFO:
		return uint64(now - e.ctime + math.MaxInt32) // older first; never negative
	}
	return 0
}

// populate samples maxmemory-samples entries of one random shard of every
// database with keys, into the pool. ev.mu is held.
func (ks *Keyspace) populate(p Policy, now int64) bool {
	ev := &ks.evict
	n := int(ev.samples.Load())
	found := false
	for _, db := range ks.dbs {
		sh := ks.nonEmptyShard(db, p.volatile())
		if sh == nil {
			continue
		}
		found = true
		list := sh.entries
		if p.volatile() {
			list = sh.volatile
		}
		lru := p == AllKeysLRU || p == VolatileLRU
		for i := 0; i < n; i++ {
			var j int
			if len(list) <= n {
				if i >= len(list) {
					break
				}
				j = i
			} else {
				j = rand.IntN(len(list))
			}
			e := list[j]
			if lru && !p.volatile() {
				// All-keys LRU reads only the dense atimes: the entry
				// itself is touched only if it is evicted.
				ev.offer(ks.score(p, nil, sh.atimes[j], now), sh, e, uint32(j))
				continue
			}
			ev.offer(ks.score(p, e, sh.atimes[e.idx], now), sh, e, e.idx)
		}
		sh.mu.Unlock()
	}
	return found
}

// offer inserts a candidate into the pool, kept sorted by ascending score.
func (ev *evictor) offer(score uint64, sh *Shard, e *Entry, idx uint32) {
	pool := ev.pool
	for i := range pool {
		if pool[i].e == e {
			return // already a candidate
		}
	}
	k := 0
	for k < len(pool) && pool[k].score < score {
		k++
	}
	if len(pool) == poolSize {
		if k == 0 {
			return // worse than everything we hold
		}
		copy(pool[:k-1], pool[1:k]) // drop the worst candidate
		pool[k-1] = poolEntry{score, sh, e, idx}
		return
	}
	pool = append(pool, poolEntry{})
	copy(pool[k+1:], pool[k:])
	pool[k] = poolEntry{score, sh, e, idx}
	ev.pool = pool
}

func (ks *Keyspace) evictFromPool(p Policy, now int64) bool {
	ev := &ks.evict
	if !ks.populate(p, now) {
		return false
	}
	for len(ev.pool) > 0 {
		c := ev.pool[len(ev.pool)-1]
		ev.pool[len(ev.pool)-1] = poolEntry{}
		ev.pool = ev.pool[:len(ev.pool)-1]
		sh, e := c.sh, c.e
		sh.mu.Lock()
		// Still there? An entry is never reused, so finding it where it
		// was sampled proves it is live in this shard (no hashing needed).
		// Nothing of e is read before that: SWAPDB may have moved it to
		// another database's shard, whose lock guards it now. A candidate
		// that moved within the shard (a delete moved it down) is dropped.
		if int(c.idx) >= len(sh.entries) || sh.entries[c.idx] != e || (p.volatile() && e.expire == 0) {
			sh.mu.Unlock()
			continue // gone, or no longer a candidate
		}
		sh.evictEntry(e)
		sh.mu.Unlock()
		return true
	}
	return false
}

// evictEntry deletes e to free memory, with the "evicted" event; the
// memory is added to ev.freed (ev.mu is held).
func (sh *Shard) evictEntry(e *Entry) {
	key := e.keyBytes() // valid until recycle, after the observer calls
	sh.db.ks.evict.freed += sh.detach(e)
	sh.db.ks.evictedKeys.Add(1)
	sh.modified(key)
	sh.db.ks.observer.KeyEvent(ClassEvicted, "evicted", sh.db.id, key)
	sh.db.ks.recycle(e)
}
