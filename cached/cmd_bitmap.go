package cached

import (
	"math"
	"math/bits"

	"github.com/anvilstack/anvil/cached/store"
)

// The bitmap family: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
// BITFIELD_RO, on string values. Bit 0 is the most significant bit of the
// first byte, as in Redis; a write past the end zero-pads the string.

func bitmapCommands() []*Command {
	return []*Command{
		{Name: "setbit", Arity: 4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW access update"}, Handler: cmdSetBit,
			Group: "bitmap", Since: "2.2.0", Summary: "Sets or clears the bit at offset in the string value stored at key", Complexity: "O(1)"},
		{Name: "getbit", Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO access"}, Handler: cmdGetBit,
			Group: "bitmap", Since: "2.2.0", Summary: "Returns the bit value at offset in the string value stored at key", Complexity: "O(1)"},
		{Name: "bitcount", Arity: -2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO access"}, Handler: cmdBitCount,
			Group: "bitmap", Since: "2.6.0", Summary: "Count set bits in a string", Complexity: "O(N)"},
		{Name: "bitpos", Arity: -3, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO access"}, Handler: cmdBitPos,
			Group: "bitmap", Since: "2.8.7", Summary: "Find first bit set or clear in a string", Complexity: "O(N)"},
		{Name: "bitop", Arity: -4, Flags: FlagWrite | FlagDenyOOM, First: 2, Last: -1, Step: 1, KeySpecs: []string{"OW update", "RO access"}, Handler: cmdBitOp,
			Group: "bitmap", Since: "2.6.0", Summary: "Perform bitwise operations between strings", Complexity: "O(N)"},
		{Name: "bitfield", Arity: -2, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW update access"}, Handler: cmdBitField,
			Group: "bitmap", Since: "3.2.0", Summary: "Perform arbitrary bitfield integer operations on strings", Complexity: "O(1) for each subcommand specified"},
		{Name: "bitfield_ro", Arity: -2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO access"}, Handler: cmdBitFieldRO,
			Group: "bitmap", Since: "6.0.0", Summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", Complexity: "O(1) for each subcommand specified"},
	}
}

const (
	errBitOffset = "ERR bit offset is not an integer or out of range"
	errBitValue  = "ERR bit is not an integer or out of range"
	errBitType   = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
)

// cstr is arg as C code sees an argument: up to its first NUL byte
// (Redis compares option names with strcasecmp and measures some with
// strlen).
func cstr(arg []byte) []byte {
	for i, b := range arg {
		if b == 0 {
			return arg[:i]
		}
	}
	return arg
}

// cEqualFold is strcasecmp(arg, w) == 0.
func cEqualFold(arg []byte, w string) bool { return EqualFold(cstr(arg), w) }

// bitOffsetArg parses a bit offset as Redis's getBitOffsetFromArgument:
// with hashBits > 0 a "#N" offset means N*hashBits. The offset's byte must
// be below proto-max-bulk-len.
func (c *Client) bitOffsetArg(arg []byte, hashBits int) (uint64, bool) {
	usehash := hashBits > 0 && len(arg) > 0 && arg[0] == '#'
	p := arg
	if usehash {
		p = arg[1:]
	}
	n, ok := ParseInt(p)
	if ok && usehash {
		n *= int64(hashBits) // wraps on overflow, as the C code does
	}
	if !ok || n < 0 || n>>3 >= c.srv.protoMaxBulkLen.Load() {
		c.ReplyError(errBitOffset)
		return 0, false
	}
	return uint64(n), true
}

// bitStringForWrite returns key's string entry grown (zero-padded) so
// that bit maxbit exists, creating the key when missing; grew reports a
// new key or a longer value. It replies WRONGTYPE for another type.
func (c *Client) bitStringForWrite(key []byte, maxbit uint64) (e *store.Entry, grew, ok bool) {
	need := int(maxbit>>3) + 1
	e = c.LookupWrite(key)
	if e != nil && e.Obj != nil {
		c.ReplyError(ErrWrongType)
		return nil, false, false
	}
	if e == nil {
		e = c.db.Set(key, nil, c.now, store.SetOptions{})
		c.db.GrowString(e, need)
		return e, true, true
	}
	if len(e.Str) < need {
		c.db.GrowString(e, need-len(e.Str))
		return e, true, true
	}
	e.SetRaw()
	return e, false, true
}

func cmdSetBit(c *Client, args [][]byte) {
	off, ok := c.bitOffsetArg(args[2], 0)
	if !ok {
		return
	}
	on, ok := ParseInt(args[3])
	if !ok || on&^1 != 0 {
		c.ReplyError(errBitValue)
		return
	}
	e, grew, ok := c.bitStringForWrite(args[1], off)
	if !ok {
		return
	}
	byteIdx := off >> 3
	mask := byte(1) << (7 - off&7)
	old := e.Str[byteIdx]&mask != 0
	if grew || old != (on == 1) {
		if on == 1 {
			e.Str[byteIdx] |= mask
		} else {
			e.Str[byteIdx] &^= mask
		}
		c.db.Updated(e)
		c.Notify(store.ClassString, "setbit", args[1])
	} else {
		c.Unchanged()
	}
	if old {
		c.ReplyInt(1)
	} else {
		c.ReplyInt(0)
	}
}

func cmdGetBit(c *Client, args [][]byte) {
	off, ok := c.bitOffsetArg(args[2], 0)
	if !ok {
		return
	}
	e, ok := c.stringValue(args[1], false)
	if !ok {
		return
	}
	if e != nil && off>>3 < uint64(len(e.Str)) && e.Str[off>>3]&(1<<(7-off&7)) != 0 {
		c.ReplyInt(1)
		return
	}
	c.ReplyInt(0)
}

// popcount counts the set bits of b.
func popcount(b []byte) int64 {
	var n int
	for len(b) >= 8 {
		n += bits.OnesCount64(uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56)
		b = b[8:]
	}
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return int64(n)
}

// bitRange turns BITCOUNT/BITPOS start and end (bytes, or bits when
// isBit) into a byte range and the masks of the bits outside the range in
// its first and last bytes. total is the string length in bytes.
func bitRange(start, end, total int64, isBit bool) (s, e int64, firstMask, lastMask byte) {
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	if isBit && start <= end {
		firstMask = ^byte(uint(1)<<(8-start&7) - 1)
		lastMask = byte(uint(1)<<(7-end&7) - 1)
		start >>= 3
		end >>= 3
	}
	return start, end, firstMask, lastMask
}

func cmdBitCount(c *Client, args [][]byte) {
	e, ok := c.stringValue(args[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyInt(0)
		return
	}
	p := e.Str
	var start, end int64
	var firstMask, lastMask byte
	switch len(args) {
	case 4, 5:
		if start, ok = c.IntArg(args[2]); !ok {
			return
		}
		if end, ok = c.IntArg(args[3]); !ok {
			return
		}
		if start < 0 && end < 0 && start > end {
			c.ReplyInt(0)
			return
		}
		isBit := false
		if len(args) == 5 {
			switch {
			case cEqualFold(args[4], "bit"):
				isBit = true
			case cEqualFold(args[4], "byte"):
			default:
				c.ReplyError(ErrSyntax)
				return
			}
		}
		start, end, firstMask, lastMask = bitRange(start, end, int64(len(p)), isBit)
	case 2:
		start, end = 0, int64(len(p))-1
	default:
		c.ReplyError(ErrSyntax)
		return
	}
	if start > end {
		c.ReplyInt(0)
		return
	}
	n := popcount(p[start : end+1])
	n -= int64(bits.OnesCount8(p[start]&firstMask) + bits.OnesCount8(p[end]&lastMask))
	c.ReplyInt(n)
}

// bitpos is Redis's redisBitpos: the position of the first bit equal to
// bit in p; when looking for 1 and there is none, -1; when looking for 0
// and there is none, the first bit after p.
func bitpos(p []byte, bit int) int64 {
	skip := byte(0)
	if bit == 0 {
		skip = 0xff
	}
	for i, x := range p {
		if x == skip {
			continue
		}
		if bit == 0 {
			x = ^x
		}
		return int64(i)*8 + int64(bits.LeadingZeros8(x))
	}
	if bit == 1 {
		return -1
	}
	return int64(len(p)) * 8
}

func cmdBitPos(c *Client, args [][]byte) {
	bit, ok := c.IntArg(args[2])
	if !ok {
		return
	}
	if bit != 0 && bit != 1 {
		c.ReplyError("ERR The bit argument must be 1 or 0.")
		return
	}
	e, ok := c.stringValue(args[1], false)
	if !ok {
		return
	}
	if e == nil {
		if bit == 1 {
			c.ReplyInt(-1)
		} else {
			c.ReplyInt(0)
		}
		return
	}
	p := e.Str
	var start, end int64
	var firstMask, lastMask byte
	endGiven := false
	switch len(args) {
	case 4, 5, 6:
		if start, ok = c.IntArg(args[3]); !ok {
			return
		}
		isBit := false
		if len(args) == 6 {
			switch {
			case cEqualFold(args[5], "bit"):
				isBit = true
			case cEqualFold(args[5], "byte"):
			default:
				c.ReplyError(ErrSyntax)
				return
			}
		}
		if len(args) >= 5 {
			if end, ok = c.IntArg(args[4]); !ok {
				return
			}
			endGiven = true
		} else {
			end = int64(len(p)) - 1
		}
		start, end, firstMask, lastMask = bitRange(start, end, int64(len(p)), isBit)
	case 3:
		start, end = 0, int64(len(p))-1
	default:
		c.ReplyError(ErrSyntax)
		return
	}
	if start > end {
		c.ReplyInt(-1)
		return
	}
	nbytes := end - start + 1
	pos := bitposMasked(p, start, end, firstMask, lastMask, int(bit))
	if endGiven && bit == 0 && pos == nbytes<<3 {
		c.ReplyInt(-1)
		return
	}
	if pos != -1 {
		pos += start << 3
	}
	c.ReplyInt(pos)
}

// bitposMasked finds bit in p[start..end] ignoring the masked-out bits of
// the first and last bytes (they read as the opposite of bit), relative
// to start; it returns (end-start+1)*8 for a 0 not found, -1 for a 1.
func bitposMasked(p []byte, start, end int64, firstMask, lastMask byte, bit int) int64 {
	if firstMask == 0 && lastMask == 0 {
		return bitpos(p[start:end+1], bit)
	}
	var tmp [1]byte
	load := func(i int64) byte {
		x := p[i]
		if i == start {
			x = maskOut(x, firstMask, bit)
		}
		if i == end {
			x = maskOut(x, lastMask, bit)
		}
		return x
	}
	// The edges separately, the middle at full speed.
	tmp[0] = load(start)
	if pos := bitpos(tmp[:], bit); (pos != -1 && pos != 8) || start == end {
		return pos
	}
	if start+1 < end {
		if pos := bitpos(p[start+1:end], bit); pos != -1 && pos != (end-start-1)*8 {
			return 8 + pos
		}
	}
	tmp[0] = load(end)
	pos := bitpos(tmp[:], bit)
	if pos == -1 {
		return -1
	}
	return (end-start)*8 + pos
}

// maskOut makes the bits in mask read as "not bit".
func maskOut(x, mask byte, bit int) byte {
	if bit == 1 {
		return x &^ mask
	}
	return x | mask
}

func cmdBitOp(c *Client, args [][]byte) {
	op := cstr(args[1])
	const (
		opAnd = iota
		opOr
		opXor
		opNot
	)
	var kind int
	switch {
	case EqualFold(op, "and"):
		kind = opAnd
	case EqualFold(op, "or"):
		kind = opOr
	case EqualFold(op, "xor"):
		kind = opXor
	case EqualFold(op, "not"):
		kind = opNot
	default:
		c.ReplyError(ErrSyntax)
		return
	}
	if kind == opNot && len(args) != 4 {
		c.ReplyError("ERR BITOP NOT must be called with a single source key.")
		return
	}
	srcs := make([][]byte, 0, len(args)-3)
	maxLen := 0
	for _, k := range args[3:] {
		e := c.Lookup(k)
		if e == nil {
			srcs = append(srcs, nil)
			continue
		}
		if e.Obj != nil {
			c.ReplyError(ErrWrongType)
			return
		}
		srcs = append(srcs, e.Str)
		maxLen = max(maxLen, len(e.Str))
	}
	dst := args[2]
	if maxLen == 0 {
		if c.db.Delete(dst, c.now) {
			c.Notify(store.ClassGeneric, "del", dst)
		}
		c.ReplyInt(0)
		return
	}
	res := make([]byte, maxLen)
	copy(res, srcs[0])
	switch kind {
	case opNot:
		for i := range res {
			res[i] = ^res[i]
		}
	case opAnd:
		for _, s := range srcs[1:] {
			n := min(len(s), len(res))
			for i := 0; i < n; i++ {
				res[i] &= s[i]
			}
			clear(res[n:])
		}
	case opOr:
		for _, s := range srcs[1:] {
			for i := range s {
				res[i] |= s[i]
			}
		}
	case opXor:
		for _, s := range srcs[1:] {
			for i := range s {
				res[i] ^= s[i]
			}
		}
	}
	// The sources may share memory with the destination: res is a copy,
	// and Set copies it again into the destination's own block.
	c.db.Set(dst, res, c.now, store.SetOptions{})
	c.Notify(store.ClassString, "set", dst)
	c.ReplyInt(int64(maxLen))
}

// BITFIELD

const (
	bfGet = iota
	bfSet
	bfIncrBy
)

const (
	bfWrap = iota
	bfSat
	bfFail
)

type bitfieldOp struct {
	offset uint64
	value  int64
	op     int
	ow     int
	bits   uint
	signed bool
}

func cmdBitField(c *Client, args [][]byte)   { bitfieldGeneric(c, args, false) }
func cmdBitFieldRO(c *Client, args [][]byte) { bitfieldGeneric(c, args, true) }

// bitfieldType parses "i8" or "u16": i1..i64, u1..u63.
func (c *Client) bitfieldType(arg []byte) (signed bool, n uint, ok bool) {
	if len(arg) == 0 || (arg[0] != 'i' && arg[0] != 'u') {
		c.ReplyError(errBitType)
		return false, 0, false
	}
	signed = arg[0] == 'i'
	v, ok := ParseInt(cstr(arg[1:]))
	if !ok || v < 1 || (signed && v > 64) || (!signed && v > 63) {
		c.ReplyError(errBitType)
		return false, 0, false
	}
	return signed, uint(v), true
}

// parseBitfield parses BITFIELD's operations, replying the first error.
func (c *Client) parseBitfield(args [][]byte) (ops []bitfieldOp, readonly bool, highest uint64, ok bool) {
	ow := bfWrap
	readonly = true
	for j := 2; j < len(args); j++ {
		rem := len(args) - j - 1
		sub := args[j]
		var op int
		switch {
		case cEqualFold(sub, "get") && rem >= 2:
			op = bfGet
		case cEqualFold(sub, "set") && rem >= 3:
			op = bfSet
		case cEqualFold(sub, "incrby") && rem >= 3:
			op = bfIncrBy
		case cEqualFold(sub, "overflow") && rem >= 1:
			j++
			switch t := args[j]; {
			case cEqualFold(t, "wrap"):
				ow = bfWrap
			case cEqualFold(t, "sat"):
				ow = bfSat
			case cEqualFold(t, "fail"):
				ow = bfFail
			default:
				c.ReplyError("ERR Invalid OVERFLOW type specified")
				return nil, false, 0, false
			}
			continue
		default:
			c.ReplyError(ErrSyntax)
			return nil, false, 0, false
		}
		signed, nbits, ok := c.bitfieldType(args[j+1])
		if !ok {
			return nil, false, 0, false
		}
		off, ok := c.bitOffsetArg(args[j+2], int(nbits))
		if !ok {
			return nil, false, 0, false
		}
		var v int64
		if op != bfGet {
			readonly = false
			highest = max(highest, off+uint64(nbits)-1)
			if v, ok = c.IntArg(args[j+3]); !ok {
				return nil, false, 0, false
			}
		}
		ops = append(ops, bitfieldOp{offset: off, value: v, op: op, ow: ow, bits: nbits, signed: signed})
		if op == bfGet {
			j += 2
		} else {
			j += 3
		}
	}
	return ops, readonly, highest, true
}

func bitfieldGeneric(c *Client, args [][]byte, roCmd bool) {
	ops, readonly, highest, ok := c.parseBitfield(args)
	if !ok {
		return
	}
	var e *store.Entry
	grew := false
	if readonly {
		if e, ok = c.stringValue(args[1], false); !ok {
			return
		}
	} else {
		if roCmd {
			c.ReplyError("ERR BITFIELD_RO only supports the GET subcommand")
			return
		}
		if e, grew, ok = c.bitStringForWrite(args[1], highest); !ok {
			return
		}
	}
	c.ReplyArray(len(ops))
	changes := 0
	for i := range ops {
		op := &ops[i]
		if op.op == bfGet {
			var buf [9]byte
			if e != nil {
				if b := op.offset >> 3; b < uint64(len(e.Str)) {
					copy(buf[:], e.Str[b:])
				}
			}
			rel := op.offset & 7
			if op.signed {
				c.ReplyInt(getSignedBitfield(buf[:], rel, op.bits))
			} else {
				c.ReplyInt(int64(getUnsignedBitfield(buf[:], rel, op.bits)))
			}
			continue
		}
		p := e.Str
		var oldU, newU uint64
		var ret int64
		var overflow bool
		if op.signed {
			old := getSignedBitfield(p, op.offset, op.bits)
			var nv int64
			if op.op == bfIncrBy {
				wrapped, of := signedOverflow(old, op.value, op.bits, op.ow)
				overflow = of != 0
				if overflow {
					nv = wrapped
				} else {
					nv = old + op.value
				}
				ret = nv
			} else {
				nv = op.value
				wrapped, of := signedOverflow(nv, 0, op.bits, op.ow)
				overflow = of != 0
				if overflow {
					nv = wrapped
				}
				ret = old
			}
			oldU, newU = uint64(old), uint64(nv)
		} else {
			old := getUnsignedBitfield(p, op.offset, op.bits)
			var nv uint64
			if op.op == bfIncrBy {
				nv = old + uint64(op.value)
				wrapped, of := unsignedOverflow(old, op.value, op.bits, op.ow)
				overflow = of != 0
				if overflow {
					nv = wrapped
				}
				ret = int64(nv)
			} else {
				nv = uint64(op.value)
				wrapped, of := unsignedOverflow(nv, 0, op.bits, op.ow)
				overflow = of != 0
				if overflow {
					nv = wrapped
				}
				ret = int64(old)
			}
			oldU, newU = old, nv
		}
		if overflow && op.ow == bfFail {
			c.ReplyNull()
			continue
		}
		c.ReplyInt(ret)
		setUnsignedBitfield(p, op.offset, op.bits, newU)
		if grew || oldU != newU {
			changes++
		}
	}
	if changes > 0 {
		c.db.Updated(e)
		c.Notify(store.ClassString, "setbit", args[1])
	} else {
		c.Unchanged()
	}
}

func getUnsignedBitfield(p []byte, offset uint64, n uint) uint64 {
	var v uint64
	for j := uint(0); j < n; j++ {
		b := p[offset>>3]
		v = v<<1 | uint64(b>>(7-offset&7))&1
		offset++
	}
	return v
}

func getSignedBitfield(p []byte, offset uint64, n uint) int64 {
	v := int64(getUnsignedBitfield(p, offset, n))
	if n < 64 && v&(1<<(n-1)) != 0 {
		v |= -1 << n
	}
	return v
}

func setUnsignedBitfield(p []byte, offset uint64, n uint, v uint64) {
	for j := uint(0); j < n; j++ {
		bit := byte(v>>(n-1-j)) & 1
		shift := 7 - offset&7
		p[offset>>3] = p[offset>>3]&^(1<<shift) | bit<<shift
		offset++
	}
}

// unsignedOverflow is Redis's checkUnsignedBitfieldOverflow: 1 for an
// overflow, -1 for an underflow, 0 when value+incr fits in n bits; limit
// is the result under the WRAP and SAT policies.
func unsignedOverflow(value uint64, incr int64, n uint, ow int) (limit uint64, of int) {
	maxv := uint64(1)<<n - 1
	maxIncr := int64(maxv - value)
	minIncr := -int64(value)
	wrap := func() uint64 { return (value + uint64(incr)) & maxv }
	switch {
	case value > maxv || (incr > 0 && incr > maxIncr):
		if ow == bfWrap {
			return wrap(), 1
		}
		return maxv, 1
	case incr < 0 && incr < minIncr:
		if ow == bfWrap {
			return wrap(), -1
		}
		return 0, -1
	}
	return 0, 0
}

// signedOverflow is Redis's checkSignedBitfieldOverflow.
func signedOverflow(value, incr int64, n uint, ow int) (limit int64, of int) {
	maxv := int64(math.MaxInt64)
	if n != 64 {
		maxv = 1<<(n-1) - 1
	}
	minv := -maxv - 1
	maxIncr := int64(uint64(maxv) - uint64(value))
	minIncr := minv - value
	wrap := func() int64 {
		c := uint64(value) + uint64(incr)
		if n < 64 {
			mask := ^uint64(0) << n
			if c&(1<<(n-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return int64(c)
	}
	switch {
	case value > maxv || (n != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr):
		if ow == bfWrap {
			return wrap(), 1
		}
		return maxv, 1
	case value < minv || (n != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr):
		if ow == bfWrap {
			return wrap(), -1
		}
		return minv, -1
	}
	return 0, 0
}
