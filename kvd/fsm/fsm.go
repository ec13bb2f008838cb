package fsm

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/anvilstack/anvil/pkg/pebblestore"
)

// Result is what applying a command returns to the proposer.
type Result struct {
	Revision uint64 // the write's revision (0 for a delete of an absent key)
	Deleted  bool   // a delete removed the key
	Failed   bool   // the compare-and-set precondition did not hold
	Current  uint64 // when Failed: the key's current revision (0 when absent)
	Err      error  // the entry could not be applied (malformed)
}

// record is a stored value: revision(8) expiry(8, Unix ms, 0 = none) value.
type record struct {
	rev    uint64
	expiry int64
	value  []byte
	absent bool
}

func (r record) live(now int64) bool { return !r.absent && (r.expiry == 0 || r.expiry > now) }

func appendRecord(dst []byte, rev uint64, expiry int64, value []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, rev)
	dst = binary.BigEndian.AppendUint64(dst, uint64(expiry))
	return append(dst, value...)
}

func parseRecord(b []byte) (record, error) {
	if len(b) < 16 {
		return record{}, errors.New("fsm: corrupt record")
	}
	return record{rev: binary.BigEndian.Uint64(b), expiry: int64(binary.BigEndian.Uint64(b[8:])), value: b[16:]}, nil
}

// FSM is one shard's state machine. Apply, ApplyBatch, Snapshot and Restore
// run on raft's FSM goroutine only; Get, Scan and the index accessors are
// safe from any goroutine.
type FSM struct {
	db    *pebblestore.DB
	shard uint32

	dataPrefix, dataEnd []byte
	ttlPrefix, ttlEnd   []byte
	metaKey             []byte

	// owned by the FSM goroutine
	rev   uint64
	batch *pebblestore.Batch
	buf   []byte
	over  map[string]record // writes of the batch being applied (no values)

	applied atomic.Uint64
	now     atomic.Int64 // state machine time, Unix ms
	revPub  atomic.Uint64

	mu     sync.Mutex // guards notify
	notify chan struct{}

	// Snapshots counts snapshots taken and restored (for metrics).
	Snapshots, Restores atomic.Int64
}

func shardPrefix(kind byte, shard uint32) []byte {
	k := make([]byte, 5)
	k[0] = kind
	binary.BigEndian.PutUint32(k[1:], shard)
	return k
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

// Open loads shard's state machine from db (empty if new).
func Open(db *pebblestore.DB, shard uint32) (*FSM, error) {
	f := &FSM{
		db:         db,
		shard:      shard,
		dataPrefix: shardPrefix('d', shard),
		ttlPrefix:  shardPrefix('x', shard),
		metaKey:    shardPrefix('m', shard),
		batch:      db.NewBatch(),
		over:       map[string]record{},
		notify:     make(chan struct{}),
	}
	f.dataEnd, f.ttlEnd = prefixEnd(f.dataPrefix), prefixEnd(f.ttlPrefix)
	m, err := db.Get(f.metaKey, nil)
	switch {
	case errors.Is(err, pebblestore.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("shard %d: read state: %w", shard, err)
	case len(m) != 24:
		return nil, fmt.Errorf("shard %d: corrupt state record", shard)
	default:
		f.applied.Store(binary.BigEndian.Uint64(m))
		f.rev = binary.BigEndian.Uint64(m[8:])
		f.now.Store(int64(binary.BigEndian.Uint64(m[16:])))
	}
	f.revPub.Store(f.rev)
	return f, nil
}

// Close releases the FSM's batch; the database stays open.
func (f *FSM) Close() {
	if f.batch != nil {
		f.batch.Close()
		f.batch = nil
	}
}

// Applied is the index of the last entry applied and visible to reads.
func (f *FSM) Applied() uint64 { return f.applied.Load() }

// Now is the state machine's time (Unix ms).
func (f *FSM) Now() int64 { return f.now.Load() }

// Revision is the shard's last revision.
func (f *FSM) Revision() uint64 { return f.revPub.Load() }

// WaitApplied returns once Applied() >= index, or ctx's error.
func (f *FSM) WaitApplied(ctx context.Context, index uint64) error {
	for {
		if f.applied.Load() >= index {
			return nil
		}
		f.mu.Lock()
		ch := f.notify
		f.mu.Unlock()
		if f.applied.Load() >= index {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *FSM) publish(index uint64) {
	f.applied.Store(index)
	f.revPub.Store(f.rev)
	f.mu.Lock()
	close(f.notify)
	f.notify = make(chan struct{})
	f.mu.Unlock()
}

func (f *FSM) dataKey(key []byte) []byte {
	k := make([]byte, 0, len(f.dataPrefix)+len(key))
	return append(append(k, f.dataPrefix...), key...)
}

func (f *FSM) ttlKey(expiry int64, key []byte) []byte {
	k := make([]byte, 0, len(f.ttlPrefix)+8+len(key))
	k = append(k, f.ttlPrefix...)
	k = binary.BigEndian.AppendUint64(k, uint64(expiry))
	return append(k, key...)
}

// lookup reads key as the batch being applied sees it.
func (f *FSM) lookup(key []byte) (record, error) {
	if r, ok := f.over[string(key)]; ok {
		return r, nil
	}
	v, err := f.db.Get(f.dataKey(key), nil)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return record{absent: true}, nil
	}
	if err != nil {
		return record{}, err
	}
	return parseRecord(v)
}

// Apply implements raft.FSM.
func (f *FSM) Apply(l *raft.Log) any {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch implements raft.BatchingFSM: the whole batch, with the applied
// index, is one pebble batch (not synced: the Raft log is, and a crash
// replays from the last applied index that reached the disk). The response
// to a command entry is a *Result; to an OpBatch entry, a []Result with
// one element per command, in order.
func (f *FSM) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	applied := f.applied.Load()
	last := applied
	var cmd Command
	for i, l := range logs {
		if l.Index <= applied {
			continue // applied before a restart
		}
		last = l.Index
		if l.Type != raft.LogCommand {
			continue
		}
		if err := Decode(l.Data, &cmd); err != nil {
			out[i] = &Result{Err: err}
			continue
		}
		if cmd.Op == OpBatch {
			// Decode validated the whole batch.
			results := make([]Result, 0, 8)
			r := BatchReader{Body: cmd.Value}
			var sub Command
			for r.Next(&sub) {
				res, err := f.apply(&sub)
				if err != nil {
					// A storage read failed: the replica cannot continue safely.
					panic(fmt.Sprintf("kvd fsm shard %d index %d: %v", f.shard, l.Index, err))
				}
				results = append(results, res)
			}
			out[i] = results
			continue
		}
		res, err := f.apply(&cmd)
		if err != nil {
			// A storage read failed: the replica cannot continue safely.
			panic(fmt.Sprintf("kvd fsm shard %d index %d: %v", f.shard, l.Index, err))
		}
		out[i] = &res
	}
	if last == applied {
		return out
	}
	var meta [24]byte
	binary.BigEndian.PutUint64(meta[:], last)
	binary.BigEndian.PutUint64(meta[8:], f.rev)
	binary.BigEndian.PutUint64(meta[16:], uint64(f.now.Load()))
	f.batch.Set(f.metaKey, meta[:])
	if err := f.batch.Commit(false); err != nil {
		panic(fmt.Sprintf("kvd fsm shard %d: commit: %v", f.shard, err))
	}
	clear(f.over)
	f.publish(last)
	return out
}

func (f *FSM) apply(c *Command) (Result, error) {
	now := f.now.Load()
	if c.Stamp > now {
		now = c.Stamp
		f.now.Store(now)
	}
	switch c.Op {
	case OpTick:
		return Result{}, f.expire(now)
	case OpPut:
		// A blind write needs nothing of the old record: a TTL index
		// entry it leaves behind is dropped by the Tick that finds the
		// record's expiry changed. Skipping the read is most of the cost
		// of applying a put.
		if c.HasPrev {
			cur, err := f.lookup(c.Key)
			if err != nil {
				return Result{}, err
			}
			if cr := currentRev(cur, now); cr != c.Prev {
				return Result{Failed: true, Current: cr}, nil
			}
		}
		f.rev++
		var expiry int64
		if c.TTL > 0 {
			expiry = now + c.TTL
		}
		if expiry != 0 {
			f.batch.Set(f.ttlKey(expiry, c.Key), nil)
		}
		f.buf = appendRecord(f.buf[:0], f.rev, expiry, c.Value)
		f.batch.Set(f.dataKey(c.Key), f.buf)
		// Later commands of the batch need only the revision and expiry.
		f.over[string(c.Key)] = record{rev: f.rev, expiry: expiry}
		return Result{Revision: f.rev}, nil
	case OpDelete:
		cur, err := f.lookup(c.Key)
		if err != nil {
			return Result{}, err
		}
		cr := currentRev(cur, now)
		if c.HasPrev && cr != c.Prev {
			return Result{Failed: true, Current: cr}, nil
		}
		if !cur.absent {
			f.remove(c.Key, cur)
		}
		if cr == 0 {
			return Result{}, nil
		}
		f.rev++
		return Result{Revision: f.rev, Deleted: true}, nil
	}
	return Result{Err: ErrBadCommand}, nil
}

// currentRev is the revision a compare-and-set compares with: 0 when the
// key is absent or expired.
func currentRev(r record, now int64) uint64 {
	if !r.live(now) {
		return 0
	}
	return r.rev
}

func (f *FSM) remove(key []byte, cur record) {
	f.batch.Delete(f.dataKey(key))
	if cur.expiry != 0 {
		f.batch.Delete(f.ttlKey(cur.expiry, key))
	}
	f.over[string(key)] = record{absent: true}
}

// maxExpirePerTick bounds the work (and batch size) of one Tick.
const maxExpirePerTick = 1000

// expire deletes keys whose expiry is <= now, oldest first.
func (f *FSM) expire(now int64) error {
	upper := f.ttlKey(now+1, nil)
	it, err := f.db.Iter(pebblestore.Range{Lower: f.ttlPrefix, Upper: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	type due struct {
		key    []byte
		expiry int64
	}
	var todo []due
	for ok := it.First(); ok && len(todo) < maxExpirePerTick; ok = it.Next() {
		k := it.Key()[len(f.ttlPrefix):]
		todo = append(todo, due{key: append([]byte(nil), k[8:]...), expiry: int64(binary.BigEndian.Uint64(k))})
	}
	if err := it.Close(); err != nil {
		return err
	}
	for _, d := range todo {
		cur, err := f.lookup(d.key)
		if err != nil {
			return err
		}
		f.batch.Delete(f.ttlKey(d.expiry, d.key))
		if !cur.absent && cur.expiry == d.expiry {
			f.batch.Delete(f.dataKey(d.key))
			f.over[string(d.key)] = record{absent: true}
		}
	}
	return nil
}

// NextExpiry is the earliest expiry (Unix ms) of any key with a TTL.
func (f *FSM) NextExpiry() (int64, bool) {
	it, err := f.db.Iter(pebblestore.Range{Lower: f.ttlPrefix, Upper: f.ttlEnd})
	if err != nil {
		return 0, false
	}
	defer it.Close()
	if !it.First() {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(it.Key()[len(f.ttlPrefix):])), true
}

// Get appends key's value to dst. found is false when the key is absent or
// expired.
func (f *FSM) Get(key, dst []byte) (value []byte, rev uint64, found bool, err error) {
	v, err := f.db.Get(f.dataKey(key), nil)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return dst, 0, false, nil
	}
	if err != nil {
		return dst, 0, false, err
	}
	r, err := parseRecord(v)
	if err != nil {
		return dst, 0, false, err
	}
	if !r.live(f.now.Load()) {
		return dst, 0, false, nil
	}
	return append(dst, r.value...), r.rev, true, nil
}

// Item is one key of a scan.
type Item struct {
	Key      []byte
	Value    []byte
	Revision uint64
}

// Scan returns up to limit live keys with prefix, greater than startAfter,
// in key order, and whether more follow.
func (f *FSM) Scan(prefix, startAfter []byte, limit int) ([]Item, bool, error) {
	lower := f.dataKey(prefix)
	if len(startAfter) > 0 {
		after := append(f.dataKey(startAfter), 0)
		if string(after) > string(lower) {
			lower = after
		}
	}
	upper := prefixEnd(f.dataKey(prefix))
	if len(prefix) == 0 {
		upper = f.dataEnd
	}
	it, err := f.db.Iter(pebblestore.Range{Lower: lower, Upper: upper})
	if err != nil {
		return nil, false, err
	}
	defer it.Close()
	now := f.now.Load()
	var items []Item
	for ok := it.First(); ok; ok = it.Next() {
		r, err := parseRecord(it.Value())
		if err != nil {
			return nil, false, err
		}
		if !r.live(now) {
			continue
		}
		if len(items) == limit {
			return items, true, it.Close()
		}
		items = append(items, Item{
			Key:      append([]byte(nil), it.Key()[len(f.dataPrefix):]...),
			Value:    append([]byte(nil), r.value...),
			Revision: r.rev,
		})
	}
	return items, false, it.Close()
}

// Snapshot implements raft.FSM. It first makes every applied write durable
// (raft compacts its log once the snapshot is stored, and restarts skip
// what the stored applied index covers), then captures a pebble snapshot
// that Persist streams without blocking further applies.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	if err := f.db.Sync(); err != nil {
		return nil, fmt.Errorf("shard %d: sync before snapshot: %w", f.shard, err)
	}
	f.Snapshots.Add(1)
	return &snapshot{f: f, snap: f.db.Snapshot(), applied: f.applied.Load(), rev: f.rev, now: f.now.Load()}, nil
}

type snapshot struct {
	f            *FSM
	snap         *pebblestore.Snapshot
	applied, rev uint64
	now          int64
}

const snapMagic = "kvdsnap1"

// Persist implements raft.FSMSnapshot: a header, then (key, record) pairs,
// each length-prefixed, then an empty key.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	err := s.write(sink)
	if err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *snapshot) write(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	var hdr []byte
	hdr = append(hdr, snapMagic...)
	hdr = binary.BigEndian.AppendUint64(hdr, s.applied)
	hdr = binary.BigEndian.AppendUint64(hdr, s.rev)
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(s.now))
	if _, err := bw.Write(hdr); err != nil {
		return err
	}
	it, err := s.snap.Iter(pebblestore.Range{Lower: s.f.dataPrefix, Upper: s.f.dataEnd})
	if err != nil {
		return err
	}
	defer it.Close()
	var lb []byte
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()[len(s.f.dataPrefix):]
		v := it.Value()
		lb = binary.AppendUvarint(lb[:0], uint64(len(k)))
		lb = binary.AppendUvarint(lb, uint64(len(v)))
		if _, err := bw.Write(lb); err != nil {
			return err
		}
		if _, err := bw.Write(k); err != nil {
			return err
		}
		if _, err := bw.Write(v); err != nil {
			return err
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	if _, err := bw.Write([]byte{0, 0}); err != nil {
		return err
	}
	return bw.Flush()
}

// Release implements raft.FSMSnapshot.
func (s *snapshot) Release() { s.snap.Close() }

// Restore implements raft.FSM: the shard's keys are replaced by the
// snapshot's, durably, before it returns.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 256<<10)
	hdr := make([]byte, len(snapMagic)+24)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return fmt.Errorf("shard %d: snapshot header: %w", f.shard, err)
	}
	if string(hdr[:len(snapMagic)]) != snapMagic {
		return fmt.Errorf("shard %d: not a kvd snapshot", f.shard)
	}
	h := hdr[len(snapMagic):]
	applied, rev, now := binary.BigEndian.Uint64(h), binary.BigEndian.Uint64(h[8:]), int64(binary.BigEndian.Uint64(h[16:]))
	b := f.batch
	b.DeleteRange(f.dataPrefix, f.dataEnd)
	b.DeleteRange(f.ttlPrefix, f.ttlEnd)
	var kbuf, vbuf []byte
	for {
		kl, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("shard %d: snapshot: %w", f.shard, err)
		}
		vl, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("shard %d: snapshot: %w", f.shard, err)
		}
		if kl == 0 {
			break
		}
		if kl > MaxKeyLen || vl > MaxValueLen+16 || vl < 16 {
			return fmt.Errorf("shard %d: snapshot: corrupt entry", f.shard)
		}
		kbuf, vbuf = grow(kbuf, int(kl)), grow(vbuf, int(vl))
		if _, err := io.ReadFull(br, kbuf); err != nil {
			return err
		}
		if _, err := io.ReadFull(br, vbuf); err != nil {
			return err
		}
		b.Set(f.dataKey(kbuf), vbuf)
		if r, _ := parseRecord(vbuf); r.expiry != 0 {
			b.Set(f.ttlKey(r.expiry, kbuf), nil)
		}
		if b.Len() > 4<<20 {
			if err := b.Commit(false); err != nil {
				return err
			}
		}
	}
	var meta [24]byte
	binary.BigEndian.PutUint64(meta[:], applied)
	binary.BigEndian.PutUint64(meta[8:], rev)
	binary.BigEndian.PutUint64(meta[16:], uint64(now))
	b.Set(f.metaKey, meta[:])
	if err := b.Commit(true); err != nil {
		return err
	}
	clear(f.over)
	f.rev = rev
	f.now.Store(now)
	f.Restores.Add(1)
	f.publish(applied)
	return nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// StampNow is the time a leader stamps into a command.
func StampNow() int64 { return time.Now().UnixMilli() }

// Delete removes every key and the state of shard from db (when its
// replica leaves the node).
func Delete(db *pebblestore.DB, shard uint32) error {
	b := db.NewBatch()
	defer b.Close()
	for _, kind := range []byte{'d', 'x', 'm'} {
		p := shardPrefix(kind, shard)
		b.DeleteRange(p, prefixEnd(p))
	}
	return b.Commit(true)
}
