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
)

const cmdVersion = 1

// Limits the state machine enforces (the API checks them first, with
// friendlier errors).
const (
	MaxKeyLen   = 1024
	MaxValueLen = 1 << 20
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
	if c.Op < OpPut || c.Op > OpTick {
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
	if len(c.Value) > MaxValueLen {
		return ErrBadCommand
	}
	if c.Op != OpTick && len(c.Key) == 0 {
		return ErrBadCommand
	}
	return nil
}
