// Package zset is cached's sorted-set value: members ordered by (score,
// member) with O(1) score lookup by member, in one of Redis's two
// encodings.
//
// # Encodings
//
// A small sorted set is a slice of entries kept sorted (OBJECT ENCODING
// "listpack"): lookups by member scan it, as Redis scans its listpack, and
// inserts shift it. Once it holds more than zset-max-listpack-entries
// members or a member longer than zset-max-listpack-value bytes it becomes
// a skiplist with a member index (OBJECT ENCODING "skiplist"): a skiplist
// with spans (so rank queries are O(log n)) and backward links, a Go map
// from member to node, and a dense slice of the nodes that gives uniform
// random sampling (ZRANDMEMBER) and a SCAN cursor with Redis's guarantee
// (a member present for the whole scan is returned at least once). As in
// Redis a set never goes back to the small encoding by itself; the
// commands that build a new set (ZUNIONSTORE, ZRANGESTORE, GEOSEARCHSTORE
// ...) pick the encoding from the result's size, as Redis does.
//
// # Positions
//
// Range commands work on a [Pos], a place in the order that is valid until
// the set changes: ByRank, FirstInRange, LastInLexRange ... return one, and
// Next/Prev move it. Both encodings answer the same queries with the same
// results, including Redis's exact behaviour on lexicographic ranges over
// members with different scores (a linear scan in the small encoding, a
// skiplist descent in the large one).
//
// # Memory
//
// MemUsage is a running total of what the set allocates (slices, nodes,
// member strings, the map), kept in O(1) per change, for MEMORY USAGE and
// maxmemory.
//
// Nothing here locks: the caller (the command dispatcher) holds the key's
// shard lock.
package zset
