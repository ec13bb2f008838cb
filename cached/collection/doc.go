// Package collection holds cached's hash and set values: the data
// structures behind the HSET and SADD families, with Redis 7.0's
// encodings as OBJECT ENCODING reports them.
//
// A small hash is a listpack (one byte slice of length-prefixed fields and
// values in insertion order), a small set of integers an intset (a sorted
// []int64); both convert, once and for good, to a table when they outgrow
// the thresholds of [Limits] (Redis's hash-max-listpack-entries,
// hash-max-listpack-value and set-max-intset-entries). A table is a dense
// slice of strings plus an open-addressing index of their positions
// (index.go): O(1) lookup, insert and delete, uniform random picks, and a
// cursor that walks the slice downwards, so that SCAN returns every
// element present for the whole walk however the table changes meanwhile.
//
// Values are not safe for concurrent use: the keyspace shard that holds a
// value serializes access to it. Byte slices the methods return point into
// the value and are valid only until its next change; they must not be
// written to.
package collection
