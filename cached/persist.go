package cached

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anvilstack/anvil/cached/store"
)

// Snapshots (optional persistence, off by default): the save rules say
// when, the keyspace is written to data_dir/dump.cached atomically (temp
// file, fsync, rename, fsync of the directory), loaded on start, and
// written on clean shutdown when save rules are set.
//
// File format (cached's own; DUMP/RESTORE payloads are Redis's, snapshots
// are not RDB files):
//
//	"CACHED01\n"
//	records: 'K' db(uvarint) expire(varint, Unix ms, 0 none) kind(byte)
//	         key(uvarint length, bytes) value(uvarint length, bytes)
//	'E' then the CRC-32C of every byte before it (4 bytes, big endian)
//
// A string's value is its bytes; another kind's is what its Object's
// AppendSnapshot writes, read back by the decoder its family registered
// with RegisterSnapshotDecoder. A key of a kind without a decoder is left
// out of the snapshot (and counted in the log).
//
// A snapshot is the keyspace at one instant (store.Snapshot): shards are
// marked at once, the writer serializes them in turn, and changes made
// meanwhile first keep what they change, so the server goes on serving
// while the file is written.

const (
	snapshotFile  = "dump.cached"
	snapshotMagic = "CACHED01\n"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Snapshotter is implemented by Object types that snapshots can hold.
type Snapshotter interface {
	// AppendSnapshot appends the value's serialized form to b.
	AppendSnapshot(b []byte) []byte
}

// SnapshotDecoder rebuilds an Object from what its AppendSnapshot wrote.
type SnapshotDecoder func(data []byte) (store.Object, error)

// RegisterSnapshotDecoder makes snapshots of kind loadable; families call
// it from their setup function.
func (s *Server) RegisterSnapshotDecoder(kind store.Kind, dec SnapshotDecoder) {
	if s.snapDecoders == nil {
		s.snapDecoders = map[store.Kind]SnapshotDecoder{}
	}
	s.snapDecoders[kind] = dec
}

// persistence is the snapshot state.
type persistence struct {
	mu          sync.Mutex // one save at a time
	inProgress  atomic.Bool
	lastSave    atomic.Int64 // Unix seconds of the last successful save (or load, or start)
	lastOK      atomic.Bool
	dirtyAtSave atomic.Int64 // changes counted at the last save
}

// dirty counts the changes since the start: successful runs of write
// commands (from the per-command counters, so serving costs nothing).
func (s *Server) dirty() int64 {
	var n int64
	s.table.eachCommand(func(cmd *Command) {
		if cmd.Flags&FlagWrite != 0 {
			n += cmd.stats.calls.Load() - cmd.stats.failed.Load() - cmd.stats.unchanged.Load()
		}
	})
	return n
}

// changesSinceSave is rdb_changes_since_last_save.
func (s *Server) changesSinceSave() int64 {
	return max(s.dirty()-s.persist.dirtyAtSave.Load(), 0)
}

func (s *Server) snapshotPath() string { return filepath.Join(s.cfg.DataDir, snapshotFile) }

// Save writes a snapshot now; it returns when the file is durable.
func (s *Server) Save() error {
	p := &s.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inProgress.Store(true)
	defer p.inProgress.Store(false)
	dirty := s.dirty()
	n, skipped, err := s.writeSnapshot(s.snapshotPath())
	if err != nil {
		p.lastOK.Store(false)
		s.log.Error("snapshot failed", "err", err)
		return err
	}
	p.lastOK.Store(true)
	p.lastSave.Store(time.Now().Unix())
	p.dirtyAtSave.Store(dirty)
	if skipped > 0 {
		s.log.Warn("snapshot left out keys of kinds without snapshot support", "skipped", skipped)
	}
	s.log.Info("snapshot saved", "keys", n, "path", s.snapshotPath())
	return nil
}

// BackgroundSave starts a save in its own goroutine; false if one runs.
func (s *Server) BackgroundSave() bool {
	if !s.persist.inProgress.CompareAndSwap(false, true) {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.persist.inProgress.Store(false) // Save sets it again under its lock
		_ = s.Save()
	}()
	return true
}

func (s *Server) writeSnapshot(path string) (keys, skipped int, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return 0, 0, fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), snapshotFile+".tmp-*")
	if err != nil {
		return 0, 0, fmt.Errorf("create temp snapshot: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	crc := crc32.New(crcTable)
	w := bufio.NewWriterSize(io.MultiWriter(f, crc), 256<<10)
	if _, err = w.WriteString(snapshotMagic); err != nil {
		return 0, 0, err
	}
	var nkeys, nskipped atomic.Int64 // records are made by the writer and by commands that keep what they change
	snap := s.ks.BeginSnapshot(time.Now().UnixMilli(), func(db int, e *store.Entry, b []byte) []byte {
		var val []byte
		if e.Obj != nil {
			sn, ok := e.Obj.(Snapshotter)
			if !ok {
				nskipped.Add(1)
				return b
			}
			val = sn.AppendSnapshot(nil)
		} else {
			val = e.Str
		}
		b = append(b, 'K')
		b = binary.AppendUvarint(b, uint64(db))
		b = binary.AppendVarint(b, e.Expire())
		b = append(b, byte(e.Kind()))
		b = binary.AppendUvarint(b, uint64(len(e.Key())))
		b = append(b, e.Key()...)
		b = binary.AppendUvarint(b, uint64(len(val)))
		b = append(b, val...)
		nkeys.Add(1)
		return b
	})
	defer snap.Close()
	var img []byte // each image is built in the last one's memory
	for i := range snap.Shards() {
		img = snap.Image(i, img)
		if _, err = w.Write(img); err != nil {
			return 0, 0, fmt.Errorf("write snapshot: %w", err)
		}
	}
	keys, skipped = int(nkeys.Load()), int(nskipped.Load())
	if err = w.WriteByte('E'); err != nil {
		return 0, 0, err
	}
	if err = w.Flush(); err != nil {
		return 0, 0, fmt.Errorf("write snapshot: %w", err)
	}
	if _, err = f.Write(binary.BigEndian.AppendUint32(nil, crc.Sum32())); err != nil {
		return 0, 0, fmt.Errorf("write snapshot: %w", err)
	}
	if err = f.Sync(); err != nil {
		return 0, 0, fmt.Errorf("fsync snapshot: %w", err)
	}
	if err = f.Close(); err != nil {
		return 0, 0, fmt.Errorf("close snapshot: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return 0, 0, fmt.Errorf("rename snapshot: %w", err)
	}
	if d, derr := os.Open(filepath.Dir(path)); derr == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return 0, 0, fmt.Errorf("fsync data dir: %w", err)
		}
	}
	return keys, skipped, nil
}

// loadSnapshot reads the snapshot into the (empty) keyspace at start. A
// missing file is not an error; a damaged one is, so that a broken disk is
// noticed rather than silently starting empty.
func (s *Server) loadSnapshot() error {
	s.removeStaleTemps()
	data, err := os.ReadFile(s.snapshotPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	bad := func(why string) error { return fmt.Errorf("snapshot %s is damaged: %s", s.snapshotPath(), why) }
	if len(data) < len(snapshotMagic)+5 || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return bad("not a cached snapshot")
	}
	body, sum := data[:len(data)-4], binary.BigEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, crcTable) != sum || body[len(body)-1] != 'E' {
		return bad("checksum mismatch")
	}
	r := body[len(snapshotMagic) : len(body)-1]
	now := time.Now().UnixMilli()
	keys, expired := 0, 0
	for len(r) > 0 {
		if r[0] != 'K' {
			return bad("unknown record")
		}
		r = r[1:]
		db, n := binary.Uvarint(r)
		if n <= 0 || db >= uint64(s.ks.DBs()) {
			return bad("database index")
		}
		r = r[n:]
		exp, n := binary.Varint(r)
		if n <= 0 || len(r) < n+1 {
			return bad("expiry")
		}
		r = r[n:]
		kind := store.Kind(r[0])
		r = r[1:]
		key, rest, ok := lenPrefixed(r)
		if !ok {
			return bad("key")
		}
		val, rest, ok := lenPrefixed(rest)
		if !ok {
			return bad("value")
		}
		r = rest
		if exp != 0 && exp <= now {
			expired++
			continue
		}
		var obj store.Object
		if kind != store.KindString {
			dec := s.snapDecoders[kind]
			if dec == nil {
				return bad("no decoder for kind " + kind.String())
			}
			if obj, err = dec(val); err != nil {
				return bad(err.Error())
			}
			val = nil
		}
		d := s.ks.DB(int(db))
		sh := d.ShardOf(key)
		sh.Lock()
		d.Insert(key, val, obj, exp, now)
		sh.Unlock()
		keys++
	}
	s.persist.lastSave.Store(time.Now().Unix())
	s.log.Info("snapshot loaded", "keys", keys, "expired_skipped", expired, "path", s.snapshotPath())
	return nil
}

// removeStaleTemps deletes the temporary files of saves that a crash
// (kill -9, power loss) cut short, which would otherwise pile up in the
// data dir; the snapshot they were to replace is intact.
func (s *Server) removeStaleTemps() {
	stale, _ := filepath.Glob(filepath.Join(s.cfg.DataDir, snapshotFile+".tmp-*"))
	for _, f := range stale {
		if err := os.Remove(f); err != nil {
			s.log.Warn("cannot remove the temporary file of an interrupted save", "path", f, "err", err)
			continue
		}
		s.log.Info("removed the temporary file of an interrupted save", "path", f)
	}
}

func lenPrefixed(b []byte) (field, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// saveRulesDue reports whether a save rule fires now: at least changes
// changes and seconds seconds since the last save.
func (s *Server) saveRulesDue(now time.Time) bool {
	rules := s.saveRules.Load()
	if rules == nil || len(*rules) == 0 || s.persist.inProgress.Load() {
		return false
	}
	changes := s.changesSinceSave()
	elapsed := now.Unix() - s.persist.lastSave.Load()
	for _, r := range *rules {
		if changes >= r.changes && elapsed >= r.seconds {
			return true
		}
	}
	return false
}

// saveOnShutdown writes a snapshot on a clean stop when save rules are
// set, as Redis's SHUTDOWN does.
func (s *Server) saveOnShutdown() error {
	if rules := s.saveRules.Load(); rules == nil || len(*rules) == 0 {
		return nil
	}
	return s.Save()
}
