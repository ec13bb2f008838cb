// Package fsm is kvd's replicated state machine: one per shard, applying
// committed Raft entries to the shard's keys in the node's pebblestore
// database. Every write gets the next revision of the shard, so a key's
// revisions strictly increase across writes, deletes and re-creations.
//
// Time inside the state machine is the leader's clock as stamped into each
// entry (never a replica's own clock), kept monotonic: a TTL expires when the
// state machine's time passes it, so every replica expires the same keys at
// the same log index. Leaders propose Tick entries to move time forward when
// something is due to expire.
//
// Several commands may travel in one entry (OpBatch, built with Batch): a
// busy shard leader proposes the writes that gathered during the previous
// Raft round together; they apply in order, each with its own revision
// and result, as if they were consecutive entries.
//
// The applied index is written in the same batch as the data it covers, so
// a restart neither loses nor applies an entry twice: entries at or below
// the stored applied index are skipped when raft replays its log.
package fsm

import (
	"encoding/binary"
	"errors"
)

// Op is what a command does.
type Op byte

// Operations.
const (
	OpPut    Op = 1 // write Value (with TTL, optionally only at revision Prev)
	OpDelete Op = 2 // delete (optionally only at revision Prev)
	OpTick   Op = 3 // advance time and expire due keys
	// OpBatch carries several commands in one log entry (Value holds
	// them); they apply in order, each with its own revision and result.
	OpBatch Op = 4
)

const cmdVersion = 1

// Limits the state machine enforces (the API checks them first, with
// friendlier errors).
const (
	MaxKeyLen   = 1024
	MaxValueLen = 1 << 20
	// MaxBatchLen bounds the encoded commands of one batch entry; a
	// batch holds at least one command whatever its size.
	MaxBatchLen = 4 << 20
	// MaxBatchCount bounds the commands of one batch entry.
	MaxBatchCount = 4096
)

// Command is one replicated operation.
type Command struct {
	Op      Op
	Stamp   int64 // leader's wall clock, Unix milliseconds
	HasPrev bool  // compare-and-set: apply only if the key is at revision Prev
	Prev    uint64
	TTL     int64 // milliseconds, 0: never expires (OpPut)
	Key     []byte
	Value   []byte
}

// Append appends the encoding of c to dst:
//
//	version(1) op(1) stamp(8) flags(1) [prev uvarint] ttl(uvarint) keylen(uvarint) key value
func (c Command) Append(dst []byte) []byte {
	dst = append(dst, cmdVersion, byte(c.Op))
	dst = binary.BigEndian.AppendUint64(dst, uint64(c.Stamp))
	var flags byte
	if c.HasPrev {
		flags |= 1
	}
	dst = append(dst, flags)
	if c.HasPrev {
		dst = binary.AppendUvarint(dst, c.Prev)
	}
	dst = binary.AppendUvarint(dst, uint64(c.TTL))
	dst = binary.AppendUvarint(dst, uint64(len(c.Key)))
	dst = append(dst, c.Key...)
	return append(dst, c.Value...)
}

// ErrBadCommand is returned for an entry that does not decode.
var ErrBadCommand = errors.New("fsm: malformed command")

// Decode parses b into c. Key and Value alias b.
func Decode(b []byte, c *Command) error {
	if len(b) < 11 || b[0] != cmdVersion {
		return ErrBadCommand
	}
	c.Op = Op(b[1])
	if c.Op < OpPut || c.Op > OpBatch {
		return ErrBadCommand
	}
	c.Stamp = int64(binary.BigEndian.Uint64(b[2:]))
	flags := b[10]
	if flags&^1 != 0 {
		return ErrBadCommand
	}
	b = b[11:]
	c.HasPrev = flags&1 != 0
	c.Prev = 0
	if c.HasPrev {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return ErrBadCommand
		}
		c.Prev, b = v, b[n:]
	}
	ttl, n := binary.Uvarint(b)
	if n <= 0 || ttl > 1<<62 {
		return ErrBadCommand
	}
	c.TTL, b = int64(ttl), b[n:]
	kl, n := binary.Uvarint(b)
	if n <= 0 || kl > MaxKeyLen || uint64(len(b)-n) < kl {
		return ErrBadCommand
	}
	b = b[n:]
	c.Key, c.Value = b[:kl:kl], b[kl:]
	if c.Op == OpBatch {
		if c.HasPrev || c.TTL != 0 || kl != 0 || len(c.Value) > MaxBatchLen+MaxValueLen+MaxKeyLen+64 {
			return ErrBadCommand
		}
		r := BatchReader{Body: c.Value}
		var sub Command
		for r.Next(&sub) {
		}
		return r.Err()
	}
	if len(c.Value) > MaxValueLen {
		return ErrBadCommand
	}
	if c.Op != OpTick && len(c.Key) == 0 {
		return ErrBadCommand
	}
	return nil
}

// Batch builds the encoding of an OpBatch entry: Begin, Add each command,
// then Bytes. The zero value is ready; Reset reuses the buffer.
//
//	header (as any command: version op=4 stamp flags=0 ttl=0 keylen=0)
//	then per command: length(uvarint) encoding
type Batch struct {
	buf []byte
	n   int
}

// Reset empties the batch, keeping its buffer.
func (b *Batch) Reset() { b.buf, b.n = b.buf[:0], 0 }

// Add appends c, which must not itself be a batch.
func (b *Batch) Add(c *Command) {
	if len(b.buf) == 0 {
		b.buf = (Command{Op: OpBatch, Stamp: c.Stamp}).Append(b.buf)
	}
	// Reserve a 3-byte length (commands are below 2 MiB), encode, then
	// write the length in place as a padded uvarint.
	at := len(b.buf)
	b.buf = append(b.buf, 0, 0, 0)
	b.buf = c.Append(b.buf)
	n := len(b.buf) - at - 3
	if n >= 1<<21 {
		panic("fsm: command too large for a batch") // valid commands are below 1.1 MiB
	}
	b.buf[at] = byte(n) | 0x80
	b.buf[at+1] = byte(n>>7) | 0x80
	b.buf[at+2] = byte(n >> 14)
	b.n++
}

// Len is the number of commands added.
func (b *Batch) Len() int { return b.n }

// Size is the encoded size so far.
func (b *Batch) Size() int { return len(b.buf) }

// Bytes is the encoded entry (valid until the next Add or Reset).
func (b *Batch) Bytes() []byte { return b.buf }

// BatchReader reads the commands of an OpBatch command's Value in order:
//
//	r := BatchReader{Body: c.Value}
//	for r.Next(&sub) { ... }
//	if r.Err() != nil { ... }
//
// Commands' Key and Value alias the body. A nested batch is malformed.
type BatchReader struct {
	Body []byte
	n    int
	err  error
}

// Next decodes the next command into c; it reports false at the end of
// the body or at a malformed command (see Err).
func (r *BatchReader) Next(c *Command) bool {
	if r.err != nil || len(r.Body) == 0 {
		if r.err == nil && r.n == 0 {
			r.err = ErrBadCommand // an empty batch
		}
		return false
	}
	n, k := binary.Uvarint(r.Body)
	if k <= 0 || n < 2 || n > uint64(len(r.Body)-k) || r.n == MaxBatchCount || Op(r.Body[k+1]) == OpBatch {
		r.err = ErrBadCommand
		return false
	}
	if err := Decode(r.Body[k:k+int(n)], c); err != nil {
		r.err = err
		return false
	}
	r.Body = r.Body[k+int(n):]
	r.n++
	return true
}

// Err is the error that stopped Next, if any.
func (r *BatchReader) Err() error { return r.err }

// Count is the number of commands read so far.
func (r *BatchReader) Count() int { return r.n }
