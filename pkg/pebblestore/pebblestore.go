// Package pebblestore is the one place Anvil touches Pebble: a small
// ordered key-value store API (point reads, batches committed with or
// without fsync, bounded iterators, snapshots, metrics) over a Pebble
// database in a directory or, for durability tests, in a crashable
// in-memory file system.
//
// Every concurrent Commit with sync=true shares Pebble's write-ahead log, so
// concurrent synced batches are grouped into one fsync (group commit): many
// writers pay for one disk flush. CommitGrouped goes further for writers
// that arrive one after another on a busy machine (groupsync.go).
package pebblestore

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options configure Open.
type Options struct {
	// FS, when set, holds the database instead of the OS file system (see
	// NewCrashableFS).
	FS *FS
	// Log receives Pebble's own messages (at debug level, errors at error);
	// nil discards them.
	Log *slog.Logger
	// CacheBytes is the block cache size; 0 means 64 MiB.
	CacheBytes int64
	// SyncInterval is the least time between two WAL fsyncs: synced
	// commits arriving meanwhile wait and share the next one (group
	// commit bounded by time). 0 syncs as soon as asked.
	SyncInterval time.Duration
}

// FS is an in-memory file system that can simulate a crash: CrashClone
// returns what a machine would find on disk after losing power now, that
// is, only what was synced.
type FS struct{ mem *vfs.MemFS }

// NewCrashableFS returns an empty crashable in-memory file system.
func NewCrashableFS() *FS { return &FS{mem: vfs.NewCrashableMem()} }

// CrashClone returns the state of fs after a simulated power loss: synced
// data survives, unsynced data is lost.
func (fs *FS) CrashClone() *FS {
	return &FS{mem: fs.mem.CrashClone(vfs.CrashCloneCfg{})}
}

// DB is an open database. It is safe for concurrent use.
type DB struct {
	db     *pebble.DB
	gs     *groupSync
	closed atomic.Bool
}

// ErrNotFound is returned by Get for a missing key.
var ErrNotFound = errors.New("pebblestore: not found")

// Open opens (creating if needed) the database in dir.
func Open(dir string, o Options) (*DB, error) {
	size := o.CacheBytes
	if size <= 0 {
		size = 64 << 20
	}
	cache := pebble.NewCache(size)
	opts := &pebble.Options{
		Cache:                       cache,
		Logger:                      logger{o.Log},
		MemTableSize:                32 << 20,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       24,
	}
	// Bloom filters spare point reads of absent keys a walk through
	// every level.
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	if o.SyncInterval > 0 {
		iv := o.SyncInterval
		opts.WALMinSyncInterval = func() time.Duration { return iv }
	}
	if o.FS != nil {
		opts.FS = o.FS.mem
	}
	db, err := pebble.Open(dir, opts)
	cache.Unref() // the DB holds its own reference
	if err != nil {
		return nil, fmt.Errorf("open pebble in %s: %w", dir, err)
	}
	d := &DB{db: db}
	d.startGroupSync()
	return d, nil
}

// Close closes the database; batches, iterators and snapshots must be
// closed first. Closing twice is harmless.
func (d *DB) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	d.stopGroupSync()
	return d.db.Close()
}

// Get appends the value of key to dst and returns it; ErrNotFound when the
// key is absent. The result does not alias the database's memory.
func (d *DB) Get(key, dst []byte) ([]byte, error) {
	return get(d.db, key, dst)
}

type getter interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

func get(g getter, key, dst []byte) ([]byte, error) {
	v, c, err := g.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return dst, ErrNotFound
	}
	if err != nil {
		return dst, err
	}
	dst = append(dst, v...)
	return dst, c.Close()
}

// Sync makes every write committed so far durable (one WAL fsync).
func (d *DB) Sync() error {
	return d.db.LogData([]byte{0}, pebble.Sync)
}

// Flush writes the memtable to disk (used before copying a data directory).
func (d *DB) Flush() error { return d.db.Flush() }

// NewBatch returns an empty write batch. Commit or Close it.
func (d *DB) NewBatch() *Batch { return &Batch{b: d.db.NewBatch(), d: d} }

// Batch is a set of writes applied atomically. Not safe for concurrent use.
type Batch struct {
	b *pebble.Batch
	d *DB
}

// Set records key=value; both may be reused once Set returns.
func (b *Batch) Set(key, value []byte) { _ = b.b.Set(key, value, nil) }

// Delete records the removal of key.
func (b *Batch) Delete(key []byte) { _ = b.b.Delete(key, nil) }

// DeleteRange records the removal of every key in [start, end).
func (b *Batch) DeleteRange(start, end []byte) { _ = b.b.DeleteRange(start, end, nil) }

// Len is the number of bytes in the batch's representation.
func (b *Batch) Len() int { return b.b.Len() }

// Empty reports whether the batch holds no writes.
func (b *Batch) Empty() bool { return b.b.Empty() }

// Commit applies the batch; with sync it returns only once the batch is
// on stable storage. The batch is reset for reuse.
func (b *Batch) Commit(sync bool) error {
	opts := pebble.NoSync
	if sync {
		opts = pebble.Sync
	}
	err := b.b.Commit(opts)
	b.b.Reset()
	return err
}

// Close releases the batch.
func (b *Batch) Close() error { return b.b.Close() }

// Range bounds an iteration: keys k with Lower <= k < Upper (a nil bound is
// open).
type Range struct{ Lower, Upper []byte }

// Iter returns an iterator over r, positioned before the first key.
func (d *DB) Iter(r Range) (*Iter, error) {
	it, err := d.db.NewIter(&pebble.IterOptions{LowerBound: r.Lower, UpperBound: r.Upper})
	if err != nil {
		return nil, err
	}
	return &Iter{it: it}, nil
}

// Iter walks keys in order. Key and Value are valid until the next move.
type Iter struct{ it *pebble.Iterator }

// First moves to the first key; it reports whether there is one.
func (i *Iter) First() bool { return i.it.First() }

// Last moves to the last key; it reports whether there is one.
func (i *Iter) Last() bool { return i.it.Last() }

// SeekGE moves to the first key >= key.
func (i *Iter) SeekGE(key []byte) bool { return i.it.SeekGE(key) }

// Next moves to the next key.
func (i *Iter) Next() bool { return i.it.Next() }

// Valid reports whether the iterator is on a key.
func (i *Iter) Valid() bool { return i.it.Valid() }

// Key is the current key (valid until the next move).
func (i *Iter) Key() []byte { return i.it.Key() }

// Value is the current value (valid until the next move).
func (i *Iter) Value() []byte {
	v, err := i.it.ValueAndErr()
	if err != nil {
		return nil
	}
	return v
}

// Close releases the iterator and returns any error met while iterating.
// Closing twice is harmless (Pebble pools iterators, so a second close of
// the same one would corrupt another user's).
func (i *Iter) Close() error {
	if i.it == nil {
		return nil
	}
	err := i.it.Close()
	i.it = nil
	return err
}

// Snapshot is a consistent read-only view of the database at one moment.
type Snapshot struct{ s *pebble.Snapshot }

// Snapshot returns a view of the database as of now. Close it.
func (d *DB) Snapshot() *Snapshot { return &Snapshot{s: d.db.NewSnapshot()} }

// Get is DB.Get on the snapshot.
func (s *Snapshot) Get(key, dst []byte) ([]byte, error) { return get(s.s, key, dst) }

// Iter is DB.Iter on the snapshot.
func (s *Snapshot) Iter(r Range) (*Iter, error) {
	it, err := s.s.NewIter(&pebble.IterOptions{LowerBound: r.Lower, UpperBound: r.Upper})
	if err != nil {
		return nil, err
	}
	return &Iter{it: it}, nil
}

// Close releases the snapshot.
func (s *Snapshot) Close() error { return s.s.Close() }

// Stats are the database figures exported as metrics.
type Stats struct {
	DiskBytes        uint64 // total disk space used (WAL, tables, manifests)
	WALBytes         uint64 // live WAL size
	MemtableBytes    uint64 // size of all memtables
	Compactions      int64  // compactions completed since open
	Flushes          int64  // memtable flushes completed since open
	ReadAmp          int    // sublevels in L0 plus non-empty levels: reads touch this many
	BlockCacheHits   int64
	BlockCacheMisses int64
	GroupedSyncs     uint64 // WAL syncs done for CommitGrouped
	GroupedCommits   uint64 // CommitGrouped calls they answered
}

// Stats returns current figures.
func (d *DB) Stats() Stats {
	m := d.db.Metrics()
	return Stats{
		DiskBytes:        m.DiskSpaceUsage(),
		WALBytes:         m.WAL.Size,
		MemtableBytes:    m.MemTable.Size,
		Compactions:      m.Compact.Count,
		Flushes:          m.Flush.Count,
		ReadAmp:          m.ReadAmp(),
		BlockCacheHits:   m.BlockCache.Hits,
		BlockCacheMisses: m.BlockCache.Misses,
		GroupedSyncs:     d.gs.syncs.Load(),
		GroupedCommits:   d.gs.joined.Load(),
	}
}

// logger bridges Pebble's printf logging to slog.
type logger struct{ log *slog.Logger }

func (l logger) Infof(format string, args ...any) {
	if l.log != nil {
		l.log.Debug(fmt.Sprintf(format, args...))
	}
}

func (l logger) Errorf(format string, args ...any) {
	if l.log != nil {
		l.log.Error(fmt.Sprintf(format, args...))
	}
}

func (l logger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if l.log != nil {
		l.log.Error(msg)
	}
	panic("pebble: " + msg)
}
