package store

import (
	"strconv"
	"unsafe"
)

// Kind is the type of a value, as TYPE names it.
type Kind uint8

// The value kinds. Families other than strings implement [Object].
const (
	KindString Kind = iota
	KindList
	KindSet
	KindZSet
	KindHash
	KindStream
)

var kindNames = [...]string{"string", "list", "set", "zset", "hash", "stream"}

// String is the name TYPE replies with.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// KindByName maps a TYPE name ("string", "hash", ...) to its Kind.
func KindByName(name string) (Kind, bool) {
	for i, n := range kindNames {
		if n == name {
			return Kind(i), true
		}
	}
	return 0, false
}

// Object is a value of a type other than string. Implementations live with
// their command family; the store only needs these to report and account
// for them. MemUsage must be cheap (keep a running count): the store calls
// it on every [DB.Updated].
type Object interface {
	Kind() Kind
	// Encoding is what OBJECT ENCODING reports ("listpack", "hashtable", ...).
	Encoding() string
	// MemUsage is the bytes the value holds, as Go allocates them.
	MemUsage() int
}

// Entry is one key's value and metadata. Its fields other than Str and Obj
// belong to the store; change a value only through the DB methods, or
// change Obj or Str in place and then call DB.Updated.
//
// Str must not be kept past the shard lock: the store reuses its memory
// when the key is overwritten.
type Entry struct {
	key string // shares memory with the map key
	// Str is the value of a string key (Obj == nil).
	Str []byte
	// Obj is the value of any other type.
	Obj Object

	expire int64 // Unix ms, 0 without a TTL
	ctime  int64 // creation, Unix ms (FIFO policies)
	// The LRU clock lives in the shard's atimes, beside the entry's
	// place in entries: eviction samples it without touching the entry.
	idx   uint32 // position in the shard's entry slice
	vidx  uint32 // position in the volatile slice, when expire != 0
	lfu   uint32 // LFU: last decrement time in minutes << 8 | log counter
	mem   int32  // bytes accounted for this entry
	tag   uint32 // upper half of the key's hash: its index tag
	flags uint8
}

const (
	flagRaw uint8 = 1 << iota // a string changed in place (APPEND, SETRANGE): encoding "raw"
)

// Key is the entry's key.
func (e *Entry) Key() string { return e.key }

// Kind is the type of the entry's value.
func (e *Entry) Kind() Kind {
	if e.Obj == nil {
		return KindString
	}
	return e.Obj.Kind()
}

// Expire is the entry's expiry time in Unix ms, 0 when it has none.
func (e *Entry) Expire() int64 { return e.expire }

// Mem is the bytes the entry is accounted for (MEMORY USAGE).
func (e *Entry) Mem() int { return int(e.mem) }

// Encoding is what OBJECT ENCODING reports for the entry.
func (e *Entry) Encoding() string {
	if e.Obj != nil {
		return e.Obj.Encoding()
	}
	if e.flags&flagRaw == 0 && len(e.Str) <= 20 {
		if _, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(e.Str), len(e.Str)), 10, 64); err == nil && isCanonicalInt(e.Str) {
			return "int"
		}
	}
	if e.flags&flagRaw == 0 && len(e.Str) <= 44 {
		return "embstr"
	}
	return "raw"
}

// SetRaw marks a string value changed in place, as APPEND and SETRANGE
// leave it (OBJECT ENCODING "raw").
func (e *Entry) SetRaw() { e.flags |= flagRaw }

func isCanonicalInt(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if b[0] == '-' {
		b = b[1:]
		if len(b) == 0 || b[0] == '0' {
			return false
		}
	}
	return len(b) == 1 || b[0] != '0'
}

// entryOverhead is what a key costs beyond its key and value bytes: the
// Entry itself, its index slot (16 bytes at the average load of a table
// that grows at 3/4 full) and its place in the entry and atime slices.
const entryOverhead = int(unsafe.Sizeof(Entry{})) + 28 + 12

// volatileOverhead is the extra cost of a key with a TTL: its place in the
// volatile slice.
const volatileOverhead = 12

// sizeClasses are the Go allocator's size classes up to 32 KiB.
var sizeClasses = [...]int{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
	2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240,
	10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

// AllocSize is what the Go allocator really takes for an n-byte object:
// its size class, or whole 8 KiB pages for a large one.
func AllocSize(n int) int {
	if n <= 0 {
		return 0
	}
	if n > 32768 {
		return (n + 8191) &^ 8191
	}
	lo, hi := 0, len(sizeClasses)-1
	for lo < hi {
		m := (lo + hi) / 2
		if sizeClasses[m] < n {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return sizeClasses[lo]
}

// sizeClassIndex is the index of the size class that holds n bytes, -1
// above 32 KiB.
func sizeClassIndex(n int) int {
	if n <= 0 || n > 32768 {
		return -1
	}
	lo, hi := 0, len(sizeClasses)-1
	for lo < hi {
		m := (lo + hi) / 2
		if sizeClasses[m] < n {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// entryMem is the accounted size of e.
func entryMem(e *Entry) int {
	n := entryOverhead
	if e.Obj != nil {
		n += AllocSize(len(e.key)) + e.Obj.MemUsage()
	} else {
		// key and value share one allocation (see newEntry)
		n += AllocSize(len(e.key) + cap(e.Str))
	}
	if e.expire != 0 {
		n += volatileOverhead
	}
	return n
}
