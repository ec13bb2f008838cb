// Package list is cached's list value: a sequence of byte strings with
// O(1) push and pop at both ends and index access that walks chunks, not
// elements, laid out like Redis's quicklist.
//
// # Layout
//
// A [List] is a ring of nodes; a node packs its elements into one byte
// buffer, each as uvarint(len) + bytes + the same uvarint written
// backwards, so a node is walked from either end without an offset table
// (Redis's listpack does the same with its backlen field). A node keeps
// free room at both ends of its buffer, so pushing to the head is as cheap
// as pushing to the tail. How many elements a node may hold follows
// list-max-listpack-size as Redis reads it: a positive fill is a number of
// elements (and at most 8 KiB), a negative one a byte size (-1 4 KiB ...
// -5 64 KiB); an element bigger than that gets a node of its own (Redis's
// "plain" node). Inserting into a full node splits it; a node emptied by
// a deletion is unlinked.
//
// Finding index i walks the ring from the nearer end summing node counts,
// then the node from its nearer end: O(nodes + node size), as in Redis.
//
// # Memory
//
// MemUsage is a running total of what the list allocates (the ring, every
// node and its buffer, rounded to Go's size classes), kept in O(1) per
// change, for MEMORY USAGE and maxmemory.
//
// Values returned by reads are views into the list's buffers: they are
// valid until the list changes. Nothing here locks: the caller (the
// command dispatcher) holds the key's shard lock.
package list
