// Package store is cached's keyspace: numbered databases of typed values
// with per-entry metadata for expiry and eviction, honest memory
// accounting, and WATCH tracking.
//
// # Sharding and locks
//
// Each [DB] is split into a power-of-two number of [Shard]s by a hash of
// the key; each shard has its own mutex and there is no global lock. Every
// method that reads or changes keys of a shard must be called with that
// shard locked (the command dispatcher in package cached does this from a
// command's key positions). Code that needs several shards at once — a
// multi-key command, EXEC, FLUSHALL — locks them through a [LockSet], which
// always locks in one global order (database index, then shard index), so
// two such callers cannot deadlock. Nothing in this package takes a lock
// while holding a shard lock except the leaf locks of an [Observer].
//
// A [Snapshot] rides on the shard locks: it marks every shard at one
// instant, and until its writer has serialized a shard, whatever changes a
// key there first keeps the key's record as it was (a LockSet does it for
// the keys it names), so a snapshot is point-in-time without stopping the
// server.
//
// # Entries
//
// A key maps to an [Entry]: a string value (Str) or an [Object] of another
// type, an expiry time in Unix milliseconds, the LRU clock and LFU counter
// Redis keeps, its creation time (for the FIFO policies) and the bytes it
// is accounted for. A shard finds an entry by key through its own
// open-addressing index, whose slots keep part of the key's hash: one hash
// of a key picks both its shard and its home slot, and an entry is
// deleted (evicted, expired) without reading its key again. Each shard
// also keeps its entries in a dense slice, so
// that random sampling (RANDOMKEY, eviction, active expiry) is O(1) and
// SCAN can walk a shard with Redis's guarantee: an element present for the
// whole scan is returned at least once (the slice is walked from its end,
// and removal only ever moves an entry to a lower index).
//
// # Time
//
// Time is a parameter: methods take now in Unix milliseconds, so tests can
// drive expiry and the LRU clock.
package store
