// Package raftstore keeps hashicorp/raft's durable state in a shared
// pebblestore database and carries its traffic: Store is a raft.LogStore and
// raft.StableStore for one Raft group (many groups share one database, so
// their synced appends share one write-ahead log and one fsync), Mux
// multiplexes every group's connections over one TCP port and carries
// request/response calls between nodes on the same sessions, and Logger
// bridges raft's hclog output to log/slog.
package raftstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/anvilstack/anvil/pkg/pebblestore"
)

// Key layout in the shared database: 'r' group(4) kind(1) suffix, where
// kind 'l' holds log entries by big-endian index and 's' the stable store.
const (
	kindLog    = 'l'
	kindStable = 's'
)

func groupPrefix(group uint32, kind byte) []byte {
	k := make([]byte, 6, 6+8)
	k[0] = 'r'
	binary.BigEndian.PutUint32(k[1:], group)
	k[5] = kind
	return k
}

// Store is the log and stable store of one Raft group. It is safe for
// concurrent use.
type Store struct {
	db        *pebblestore.DB
	logPrefix []byte
	stPrefix  []byte

	mu          sync.Mutex // guards first/last and orders appends
	first, last uint64
}

var errNotFound = errors.New("not found") // raft compares the text

// Open returns the store of group in db, reading its index bounds.
func Open(db *pebblestore.DB, group uint32) (*Store, error) {
	s := &Store{db: db, logPrefix: groupPrefix(group, kindLog), stPrefix: groupPrefix(group, kindStable)}
	it, err := db.Iter(pebblestore.Range{Lower: s.logPrefix, Upper: prefixEnd(s.logPrefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	if it.First() {
		s.first = binary.BigEndian.Uint64(it.Key()[len(s.logPrefix):])
		it.Last()
		s.last = binary.BigEndian.Uint64(it.Key()[len(s.logPrefix):])
	}
	return s, it.Close()
}

func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

func (s *Store) logKey(i uint64) []byte {
	k := make([]byte, len(s.logPrefix)+8)
	copy(k, s.logPrefix)
	binary.BigEndian.PutUint64(k[len(s.logPrefix):], i)
	return k
}

// FirstIndex implements raft.LogStore.
func (s *Store) FirstIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first, nil
}

// LastIndex implements raft.LogStore.
func (s *Store) LastIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, nil
}

// GetLog implements raft.LogStore.
func (s *Store) GetLog(index uint64, log *raft.Log) error {
	v, err := s.db.Get(s.logKey(index), nil)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return raft.ErrLogNotFound
	}
	if err != nil {
		return err
	}
	return DecodeLog(v, log)
}

// StoreLog implements raft.LogStore.
func (s *Store) StoreLog(log *raft.Log) error { return s.StoreLogs([]*raft.Log{log}) }

// StoreLogs implements raft.LogStore: one batch, durable when it returns;
// the groups of the node share WAL syncs (pebblestore CommitGrouped).
func (s *Store) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	var buf []byte
	for _, l := range logs {
		buf = EncodeLog(buf[:0], l)
		b.Set(s.logKey(l.Index), buf)
	}
	if err := b.CommitGrouped(); err != nil {
		return fmt.Errorf("store raft logs: %w", err)
	}
	s.mu.Lock()
	if s.first == 0 {
		s.first = logs[0].Index
	}
	if last := logs[len(logs)-1].Index; last > s.last {
		s.last = last
	}
	s.mu.Unlock()
	return nil
}

// DeleteRange implements raft.LogStore (min and max inclusive).
func (s *Store) DeleteRange(min, max uint64) error {
	b := s.db.NewBatch()
	defer b.Close()
	b.DeleteRange(s.logKey(min), s.logKey(max+1))
	// Not synced: a deletion lost in a crash leaves entries raft already
	// tolerates (below its snapshot, or overwritten by the next synced
	// append, which makes this batch durable too).
	if err := b.Commit(false); err != nil {
		return fmt.Errorf("delete raft logs: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case min <= s.first && max >= s.last:
		s.first, s.last = 0, 0
	case min <= s.first:
		s.first = max + 1
	case max >= s.last:
		s.last = min - 1
	}
	return nil
}

func (s *Store) stableKey(k []byte) []byte {
	return append(append([]byte(nil), s.stPrefix...), k...)
}

// Set implements raft.StableStore (synced: votes and terms must survive).
func (s *Store) Set(key, val []byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	b.Set(s.stableKey(key), val)
	return b.CommitGrouped()
}

// Get implements raft.StableStore.
func (s *Store) Get(key []byte) ([]byte, error) {
	v, err := s.db.Get(s.stableKey(key), nil)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return nil, errNotFound
	}
	return v, err
}

// SetUint64 implements raft.StableStore.
func (s *Store) SetUint64(key []byte, val uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], val)
	return s.Set(key, b[:])
}

// GetUint64 implements raft.StableStore.
func (s *Store) GetUint64(key []byte) (uint64, error) {
	v, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("stable key %q: %d bytes, want 8", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// DeleteGroup removes every log entry and stable value of group (when a
// replica leaves a node). The group's Store must not be used afterwards.
func DeleteGroup(db *pebblestore.DB, group uint32) error {
	b := db.NewBatch()
	defer b.Close()
	for _, kind := range []byte{kindLog, kindStable} {
		p := groupPrefix(group, kind)
		b.DeleteRange(p, prefixEnd(p))
	}
	return b.Commit(true)
}

// EncodeLog appends the binary form of l to dst: index, term, type,
// appended-at (unix ns), then length-prefixed data and extensions.
func EncodeLog(dst []byte, l *raft.Log) []byte {
	dst = binary.BigEndian.AppendUint64(dst, l.Index)
	dst = binary.BigEndian.AppendUint64(dst, l.Term)
	dst = append(dst, byte(l.Type))
	var at int64
	if !l.AppendedAt.IsZero() {
		at = l.AppendedAt.UnixNano()
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(at))
	dst = binary.AppendUvarint(dst, uint64(len(l.Data)))
	dst = append(dst, l.Data...)
	dst = binary.AppendUvarint(dst, uint64(len(l.Extensions)))
	return append(dst, l.Extensions...)
}

var errCorrupt = errors.New("raftstore: corrupt log entry")

// DecodeLog parses what EncodeLog wrote. Data and Extensions are copies.
func DecodeLog(b []byte, l *raft.Log) error {
	if len(b) < 25 {
		return errCorrupt
	}
	l.Index = binary.BigEndian.Uint64(b)
	l.Term = binary.BigEndian.Uint64(b[8:])
	l.Type = raft.LogType(b[16])
	if at := int64(binary.BigEndian.Uint64(b[17:])); at != 0 {
		l.AppendedAt = time.Unix(0, at)
	} else {
		l.AppendedAt = time.Time{}
	}
	b = b[25:]
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return errCorrupt
	}
	l.Data = append([]byte(nil), b[k:k+int(n)]...)
	b = b[k+int(n):]
	n, k = binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) != n {
		return errCorrupt
	}
	l.Extensions = nil
	if n > 0 {
		l.Extensions = append([]byte(nil), b[k:]...)
	}
	return nil
}
