package store

import (
	"math/rand/v2"
	"sync/atomic"
	"unsafe"
)

// LFU parameters (lfu-log-factor, lfu-decay-time) and Redis's initial
// counter for a new key.
const (
	DefaultLFULogFactor = 10
	DefaultLFUDecayTime = 1
	lfuInitVal          = 5
)

// accessParams are the runtime-changeable knobs of access tracking.
type accessParams struct {
	logFactor atomic.Int32
	decayTime atomic.Int32
}

// SetLFUParams sets lfu-log-factor and lfu-decay-time (minutes).
func (ks *Keyspace) SetLFUParams(logFactor, decayTime int) {
	ks.evict.access.logFactor.Store(int32(logFactor))
	ks.evict.access.decayTime.Store(int32(decayTime))
}

func lruClock(now int64) uint32 { return uint32(now) }

func lfuMinutes(now int64) uint32 { return uint32(now/60000) & 0xffff }

func (ks *Keyspace) initAccess(e *Entry, now int64) {
	e.lfu = lfuMinutes(now)<<8 | lfuInitVal
}

// touchAccess updates, as Redis does on every access, the LFU counter
// under an LFU policy and the LRU clock under any other (so after a
// policy change at runtime the new data takes a while to build up, as
// OBJECT FREQ's error says).
func (ks *Keyspace) touchAccess(sh *Shard, e *Entry, now int64) {
	if Policy(ks.evict.policy.Load()).IsLFU() {
		c := ks.lfuDecr(e, now)
		c = ks.lfuLogIncr(c)
		e.lfu = lfuMinutes(now)<<8 | c
		return
	}
	sh.atimes[e.idx] = lruClock(now)
}

// lfuDecr is the counter after the decay since its last decrement time.
func (ks *Keyspace) lfuDecr(e *Entry, now int64) uint32 {
	ldt := e.lfu >> 8
	counter := e.lfu & 0xff
	decay := uint32(ks.evict.access.decayTime.Load())
	if decay == 0 {
		return counter
	}
	nowMin := lfuMinutes(now)
	var elapsed uint32
	if nowMin >= ldt {
		elapsed = nowMin - ldt
	} else {
		elapsed = 65535 - ldt + nowMin
	}
	periods := elapsed / decay
	if periods >= counter {
		return 0
	}
	return counter - periods
}

func (ks *Keyspace) lfuLogIncr(c uint32) uint32 {
	if c == 255 {
		return 255
	}
	base := float64(c) - lfuInitVal
	if base < 0 {
		base = 0
	}
	p := 1.0 / (base*float64(ks.evict.access.logFactor.Load()) + 1)
	if rand.Float64() < p {
		c++
	}
	return c
}

// Freq is the entry's LFU counter after decay (OBJECT FREQ).
func (ks *Keyspace) Freq(e *Entry, now int64) int { return int(ks.lfuDecr(e, now)) }

// IdleMillis is the time since e, a live entry of db, was last accessed
// (OBJECT IDLETIME reports it in seconds). Its shard must be locked.
func (db *DB) IdleMillis(e *Entry, now int64) int64 {
	return int64(lruClock(now) - db.ShardOf(unsafe.Slice(unsafe.StringData(e.key), len(e.key))).atimes[e.idx])
}

// SetAccess sets e's access data as RESTORE's IDLETIME and FREQ options
// do (Redis's objectSetLRUOrLFU): under an LFU policy a freq >= 0 becomes
// the LFU counter (decayed from now); under any other policy an
// idleMillis >= 0 dates the last access that long ago (at most the ~49
// days the LRU clock spans). e is a live entry of db; its shard must be
// locked.
func (db *DB) SetAccess(e *Entry, now, idleMillis int64, freq int) {
	if Policy(db.ks.evict.policy.Load()).IsLFU() {
		if freq >= 0 {
			e.lfu = lfuMinutes(now)<<8 | uint32(min(freq, 255))
		}
		return
	}
	if idleMillis >= 0 {
		idle := min(idleMillis, 1<<32-1)
		db.ShardOf(unsafe.Slice(unsafe.StringData(e.key), len(e.key))).atimes[e.idx] = lruClock(now) - uint32(idle)
	}
}
