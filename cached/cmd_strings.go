package cached

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/anvilstack/anvil/cached/store"
)

// The string family: GET SET and friends, counters, ranges, LCS.

func stringCommands() []*Command {
	return []*Command{
		{Name: "get", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO access"}, Handler: cmdGet,
			Group: "string", Since: "1.0.0", Summary: "Returns the string value of a key.", Complexity: "O(1)"},
		{Name: "set", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW access update"}, Handler: cmdSet,
			Group: "string", Since: "1.0.0", Summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", Complexity: "O(1)"},
		{Name: "setnx", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"OW insert"}, Handler: cmdSetNX,
			Group: "string", Since: "1.0.0", Summary: "Set the string value of a key only when the key doesn't exist.", Complexity: "O(1)"},
		{Name: "setex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, KeySpecs: []string{"OW update"}, Handler: cmdSetEX,
			Group: "string", Since: "2.0.0", Summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", Complexity: "O(1)"},
		{Name: "psetex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, KeySpecs: []string{"OW update"}, Handler: cmdPSetEX,
			Group: "string", Since: "2.6.0", Summary: "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", Complexity: "O(1)"},
		{Name: "getset", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW access update"}, Handler: cmdGetSet,
			Group: "string", Since: "1.0.0", Summary: "Returns the previous string value of a key after setting it to a new value.", Complexity: "O(1)"},
		{Name: "getdel", Arity: 2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW access delete"}, Handler: cmdGetDel,
			Group: "string", Since: "6.2.0", Summary: "Returns the string value of a key after deleting the key.", Complexity: "O(1)"},
		{Name: "getex", Arity: -2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW access update"}, Handler: cmdGetEX,
			Group: "string", Since: "6.2.0", Summary: "Returns the string value of a key after setting its expiration time.", Complexity: "O(1)"},
		{Name: "mget", Arity: -2, Flags: FlagReadOnly | FlagFast, First: 1, Last: -1, Step: 1, KeySpecs: []string{"RO access"}, Handler: cmdMGet,
			Group: "string", Since: "1.0.0", Summary: "Atomically returns the string values of one or more keys.", Complexity: "O(N) where N is the number of keys to retrieve."},
		{Name: "mset", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 2, KeySpecs: []string{"OW update"}, Handler: cmdMSet,
			Group: "string", Since: "1.0.1", Summary: "Atomically creates or modifies the string values of one or more keys.", Complexity: "O(N) where N is the number of keys to set."},
		{Name: "msetnx", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 2, KeySpecs: []string{"OW insert"}, Handler: cmdMSetNX,
			Group: "string", Since: "1.0.1", Summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.", Complexity: "O(N) where N is the number of keys to set."},
		{Name: "incr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW access update"}, Handler: cmdIncr,
			Group: "string", Since: "1.0.0", Summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", Complexity: "O(1)"},
		{Name: "decr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW access update"}, Handler: cmdDecr,
			Group: "string", Since: "1.0.0", Summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", Complexity: "O(1)"},
		{Name: "incrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW access update"}, Handler: cmdIncrBy,
			Group: "string", Since: "1.0.0", Summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", Complexity: "O(1)"},
		{Name: "decrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW access update"}, Handler: cmdDecrBy,
			Group: "string", Since: "1.0.0", Summary: "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", Complexity: "O(1)"},
		{Name: "incrbyfloat", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW access update"}, Handler: cmdIncrByFloat,
			Group: "string", Since: "2.6.0", Summary: "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", Complexity: "O(1)"},
		{Name: "append", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW insert"}, Handler: cmdAppend,
			Group: "string", Since: "2.0.0", Summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.", Complexity: "O(1)"},
		{Name: "strlen", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO"}, Handler: cmdStrlen,
			Group: "string", Since: "2.2.0", Summary: "Returns the length of a string value.", Complexity: "O(1)"},
		{Name: "getrange", Arity: 4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO access"}, Handler: cmdGetRange,
			Group: "string", Since: "2.4.0", Summary: "Returns a substring of the string stored at a key.", Complexity: "O(N) where N is the length of the returned string."},
		{Name: "substr", Arity: 4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO access"}, Handler: cmdGetRange,
			Group: "string", Since: "1.0.0", Summary: "Returns a substring from a string value.", Complexity: "O(N) where N is the length of the returned string."},
		{Name: "setrange", Arity: 4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW update"}, Handler: cmdSetRange,
			Group: "string", Since: "2.2.0", Summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", Complexity: "O(1), not counting the time taken to copy the new string in place."},
		{Name: "lcs", Arity: -3, Flags: FlagReadOnly, First: 1, Last: 2, Step: 1, KeySpecs: []string{"RO access"}, Handler: cmdLCS,
			Group: "string", Since: "7.0.0", Summary: "Finds the longest common substring.", Complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively"},
	}
}

// stringValue returns key's string entry, nil when missing, and false
// (with WRONGTYPE replied) when the key holds another type.
func (c *Client) stringValue(key []byte, write bool) (*store.Entry, bool) {
	var e *store.Entry
	if write {
		e = c.LookupWrite(key)
	} else {
		e = c.Lookup(key)
	}
	if e != nil && e.Obj != nil {
		c.ReplyError(ErrWrongType)
		return nil, false
	}
	return e, true
}

func cmdGet(c *Client, args [][]byte) {
	e, ok := c.stringValue(args[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyNull()
		return
	}
	c.ReplyBulk(e.Str)
}

// setFlags are SET's options.
type setFlags uint16

const (
	setNX setFlags = 1 << iota
	setXX
	setGet
	setKeepTTL
	setEX
	setPX
	setEXAT
	setPXAT
	setPersist
)

// parseExpireOptions parses SET's and GETEX's options from args[from:]
// following Redis's rules on which may combine; forSet selects SET's
// extra options (NX XX GET KEEPTTL) over GETEX's (PERSIST).
func parseExpireOptions(c *Client, args [][]byte, from int, forSet bool) (setFlags, []byte, bool) {
	var f setFlags
	var expire []byte
	const timed = setEX | setPX | setEXAT | setPXAT
	for j := from; j < len(args); j++ {
		opt := args[j]
		hasNext := j < len(args)-1
		switch {
		case forSet && EqualFold(opt, "nx") && f&setXX == 0:
			f |= setNX
		case forSet && EqualFold(opt, "xx") && f&setNX == 0:
			f |= setXX
		case forSet && EqualFold(opt, "get"):
			f |= setGet
		case forSet && EqualFold(opt, "keepttl") && f&(setPersist|timed) == 0:
			f |= setKeepTTL
		case !forSet && EqualFold(opt, "persist") && f&(timed|setKeepTTL) == 0:
			f |= setPersist
		case EqualFold(opt, "ex") && f&(setKeepTTL|setPersist|timed&^setEX) == 0 && hasNext:
			f |= setEX
			expire = args[j+1]
			j++
		case EqualFold(opt, "px") && f&(setKeepTTL|setPersist|timed&^setPX) == 0 && hasNext:
			f |= setPX
			expire = args[j+1]
			j++
		case EqualFold(opt, "exat") && f&(setKeepTTL|setPersist|timed&^setEXAT) == 0 && hasNext:
			f |= setEXAT
			expire = args[j+1]
			j++
		case EqualFold(opt, "pxat") && f&(setKeepTTL|setPersist|timed&^setPXAT) == 0 && hasNext:
			f |= setPXAT
			expire = args[j+1]
			j++
		default:
			c.ReplyError(ErrSyntax)
			return 0, nil, false
		}
	}
	return f, expire, true
}

// expireMillis turns an EX/PX/EXAT/PXAT argument into an absolute Unix ms
// time, replying Redis's errors for bad values.
func (c *Client) expireMillis(arg []byte, f setFlags) (int64, bool) {
	n, ok := c.IntArg(arg)
	if !ok {
		return 0, false
	}
	seconds := f&(setEX|setEXAT) != 0
	if n <= 0 || (seconds && n > math.MaxInt64/1000) {
		c.replyInvalidExpire()
		return 0, false
	}
	if seconds {
		n *= 1000
	}
	if f&(setEX|setPX) != 0 {
		if n > math.MaxInt64-c.now {
			c.replyInvalidExpire()
			return 0, false
		}
		n += c.now
	}
	return n, true
}

func (c *Client) replyInvalidExpire() {
	c.ReplyError("ERR invalid expire time in '" + c.cmd.fullName + "' command")
}

func cmdSet(c *Client, args [][]byte) {
	f, expArg, ok := parseExpireOptions(c, args, 3, true)
	if !ok {
		return
	}
	c.setGeneric(args[1], args[2], f, expArg, nil, nil)
}

// setGeneric is Redis's setGenericCommand; okReply and abortReply replace
// +OK and the null reply when not nil (SETNX replies 1 and 0).
func (c *Client) setGeneric(key, val []byte, f setFlags, expArg []byte, okReply, abortReply func()) {
	var at int64
	if expArg != nil {
		var ok bool
		if at, ok = c.expireMillis(expArg, f); !ok {
			return
		}
	}
	var found bool
	if f&setGet != 0 {
		e := c.Lookup(key)
		if e != nil && e.Obj != nil {
			c.ReplyError(ErrWrongType)
			return
		}
		if e == nil {
			c.ReplyNull()
		} else {
			c.ReplyBulk(e.Str)
		}
		found = e != nil
	} else if f&(setNX|setXX) != 0 {
		found = c.LookupWrite(key) != nil
	}
	if (f&setNX != 0 && found) || (f&setXX != 0 && !found) {
		if f&setGet == 0 {
			if abortReply != nil {
				abortReply()
			} else {
				c.ReplyNull()
			}
		}
		return
	}
	c.db.Set(key, val, c.now, store.SetOptions{KeepTTL: f&setKeepTTL != 0, Expire: at})
	c.Notify(store.ClassString, "set", key)
	if expArg != nil {
		c.Notify(store.ClassGeneric, "expire", key)
	}
	if f&setGet == 0 {
		if okReply != nil {
			okReply()
		} else {
			c.ReplyOK()
		}
	}
}

func cmdSetNX(c *Client, args [][]byte) {
	c.setGeneric(args[1], args[2], setNX, nil, func() { c.ReplyInt(1) }, func() { c.ReplyInt(0) })
}

func cmdSetEX(c *Client, args [][]byte) { c.setGeneric(args[1], args[3], setEX, args[2], nil, nil) }

func cmdPSetEX(c *Client, args [][]byte) { c.setGeneric(args[1], args[3], setPX, args[2], nil, nil) }

func cmdGetSet(c *Client, args [][]byte) {
	e, ok := c.stringValue(args[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyNull()
	} else {
		c.ReplyBulk(e.Str)
	}
	c.db.Set(args[1], args[2], c.now, store.SetOptions{})
	c.Notify(store.ClassString, "set", args[1])
}

func cmdGetDel(c *Client, args [][]byte) {
	e, ok := c.stringValue(args[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyNull()
		return
	}
	c.ReplyBulk(e.Str)
	c.db.Unlink(e)
	c.Notify(store.ClassGeneric, "del", args[1])
}

func cmdGetEX(c *Client, args [][]byte) {
	f, expArg, ok := parseExpireOptions(c, args, 2, false)
	if !ok {
		return
	}
	e, ok := c.stringValue(args[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyNull()
		return
	}
	var at int64
	if expArg != nil {
		if at, ok = c.expireMillis(expArg, f); !ok {
			return
		}
	}
	c.ReplyBulk(e.Str)
	switch {
	case f&(setEXAT|setPXAT) != 0 && at <= c.now:
		c.db.Unlink(e)
		c.Notify(store.ClassGeneric, "del", args[1])
	case expArg != nil:
		c.db.SetExpire(e, at)
		c.Notify(store.ClassGeneric, "expire", args[1])
	case f&setPersist != 0 && e.Expire() != 0:
		c.db.SetExpire(e, 0)
		c.Notify(store.ClassGeneric, "persist", args[1])
	}
}

func cmdMGet(c *Client, args [][]byte) {
	c.ReplyArray(len(args) - 1)
	for _, k := range args[1:] {
		e := c.Lookup(k)
		if e == nil || e.Obj != nil {
			c.ReplyNull()
		} else {
			c.ReplyBulk(e.Str)
		}
	}
}

func cmdMSet(c *Client, args [][]byte) { msetGeneric(c, args, false) }

func cmdMSetNX(c *Client, args [][]byte) { msetGeneric(c, args, true) }

func msetGeneric(c *Client, args [][]byte, nx bool) {
	if len(args)%2 == 0 {
		c.ReplyWrongArity()
		return
	}
	if nx {
		for j := 1; j < len(args); j += 2 {
			if c.LookupWrite(args[j]) != nil {
				c.ReplyInt(0)
				return
			}
		}
	}
	for j := 1; j < len(args); j += 2 {
		c.db.Set(args[j], args[j+1], c.now, store.SetOptions{})
		c.Notify(store.ClassString, "set", args[j])
	}
	if nx {
		c.ReplyInt(1)
	} else {
		c.ReplyOK()
	}
}

func cmdIncr(c *Client, args [][]byte) { incrDecr(c, args[1], 1) }
func cmdDecr(c *Client, args [][]byte) { incrDecr(c, args[1], -1) }

func cmdIncrBy(c *Client, args [][]byte) {
	if n, ok := c.IntArg(args[2]); ok {
		incrDecr(c, args[1], n)
	}
}

func cmdDecrBy(c *Client, args [][]byte) {
	n, ok := c.IntArg(args[2])
	if !ok {
		return
	}
	if n == math.MinInt64 {
		c.ReplyError("ERR decrement would overflow")
		return
	}
	incrDecr(c, args[1], -n)
}

func incrDecr(c *Client, key []byte, incr int64) {
	e, ok := c.stringValue(key, true)
	if !ok {
		return
	}
	var v int64
	if e != nil {
		if v, ok = ParseInt(e.Str); !ok {
			c.ReplyError(ErrNotInt)
			return
		}
	}
	if (incr < 0 && v < 0 && incr < math.MinInt64-v) || (incr > 0 && v > 0 && incr > math.MaxInt64-v) {
		c.ReplyError(ErrOverflow)
		return
	}
	v += incr
	var buf [24]byte
	nb := strconv.AppendInt(buf[:0], v, 10)
	if e == nil {
		c.db.Set(key, nb, c.now, store.SetOptions{})
	} else {
		c.db.Set(key, nb, c.now, store.SetOptions{KeepTTL: true})
	}
	c.Notify(store.ClassString, "incrby", key)
	c.ReplyInt(v)
}

func cmdIncrByFloat(c *Client, args [][]byte) {
	e, ok := c.stringValue(args[1], true)
	if !ok {
		return
	}
	var v *big.Float
	if e != nil {
		if v, ok = parseLongDouble(e.Str); !ok {
			c.ReplyError(ErrNotFloat)
			return
		}
	} else {
		v = newLongDouble()
	}
	incr, ok := parseLongDouble(args[2])
	if !ok {
		c.ReplyError(ErrNotFloat)
		return
	}
	v.Add(v, incr)
	if v.IsInf() || longDoubleOverflows(v) {
		c.ReplyError("ERR increment would produce NaN or Infinity")
		return
	}
	var buf [64]byte
	nb := formatLongDouble(buf[:0], v)
	c.db.Set(args[1], nb, c.now, store.SetOptions{KeepTTL: true})
	c.Notify(store.ClassString, "incrbyfloat", args[1])
	c.ReplyBulk(nb)
}

// INCRBYFLOAT computes in C's long double (x87 80-bit: a 64-bit
// mantissa) in Redis; a big.Float of 64 bits of precision with
// round-half-even rounds exactly as that hardware does, so results print
// the same digits.
const longDoublePrec = 64

func newLongDouble() *big.Float { return new(big.Float).SetPrec(longDoublePrec) }

// parseLongDouble parses as strtold does, refusing what Redis refuses:
// empty, leading space, trailing garbage, NaN, and out-of-range values.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || isSpaceByte(b[0]) {
		return nil, false
	}
	s := unsafeString(b)
	ls := strings.ToLower(strings.TrimLeft(s, "+-"))
	if strings.HasPrefix(ls, "nan") || strings.ContainsRune(s, '_') {
		return nil, false
	}
	if ls == "infinity" {
		s = strings.TrimSuffix(strings.TrimSuffix(s, "inity"), "INITY")
	}
	f, _, err := big.ParseFloat(s, 10, longDoublePrec, big.ToNearestEven)
	if err != nil {
		// hexadecimal floats ("0x1p3") as strtold reads them
		if f, _, err = big.ParseFloat(s, 0, longDoublePrec, big.ToNearestEven); err != nil {
			return nil, false
		}
	}
	if !f.IsInf() && longDoubleOverflows(f) {
		return nil, false
	}
	return f, true
}

// longDoubleOverflows reports whether f is beyond long double's range.
func longDoubleOverflows(f *big.Float) bool { return f.MantExp(nil) > 16384 }

// formatLongDouble formats as Redis's "%.17Lf" with the trailing zeros
// (and a bare '.') removed, and "-0" written "0".
func formatLongDouble(dst []byte, f *big.Float) []byte {
	start := len(dst)
	dst = f.Append(dst, 'f', 17)
	if bytes.IndexByte(dst[start:], '.') >= 0 {
		for dst[len(dst)-1] == '0' {
			dst = dst[:len(dst)-1]
		}
		if dst[len(dst)-1] == '.' {
			dst = dst[:len(dst)-1]
		}
	}
	if string(dst[start:]) == "-0" {
		dst = append(dst[:start], '0')
	}
	return dst
}

// checkStringLength refuses a string that would outgrow
// proto-max-bulk-len.
func (c *Client) checkStringLength(size, add int64) bool {
	total := size + add
	if total > c.srv.protoMaxBulkLen.Load() || total < size {
		c.ReplyError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
		return false
	}
	return true
}

func cmdAppend(c *Client, args [][]byte) {
	e, ok := c.stringValue(args[1], true)
	if !ok {
		return
	}
	if e == nil {
		e = c.db.Set(args[1], args[2], c.now, store.SetOptions{})
	} else {
		if !c.checkStringLength(int64(len(e.Str)), int64(len(args[2]))) {
			return
		}
		old := len(e.Str)
		copy(c.db.GrowString(e, len(args[2]))[old:], args[2])
		c.db.Touched(args[1])
	}
	c.Notify(store.ClassString, "append", args[1])
	c.ReplyInt(int64(len(e.Str)))
}

func cmdStrlen(c *Client, args [][]byte) {
	e, ok := c.stringValue(args[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyInt(0)
		return
	}
	c.ReplyInt(int64(len(e.Str)))
}

func cmdGetRange(c *Client, args [][]byte) {
	start, ok := c.IntArg(args[2])
	if !ok {
		return
	}
	end, ok := c.IntArg(args[3])
	if !ok {
		return
	}
	e, ok := c.stringValue(args[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyBulk(nil)
		return
	}
	n := int64(len(e.Str))
	if start < 0 && end < 0 && start > end {
		c.ReplyBulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.ReplyBulk(nil)
		return
	}
	c.ReplyBulk(e.Str[start : end+1])
}

func cmdSetRange(c *Client, args [][]byte) {
	offset, ok := c.IntArg(args[2])
	if !ok {
		return
	}
	if offset < 0 {
		c.ReplyError("ERR offset is out of range")
		return
	}
	val := args[3]
	e, ok := c.stringValue(args[1], true)
	if !ok {
		return
	}
	if e == nil {
		if len(val) == 0 {
			c.ReplyInt(0)
			return
		}
		if !c.checkStringLength(offset, int64(len(val))) {
			return
		}
		e = c.db.Set(args[1], nil, c.now, store.SetOptions{})
	} else {
		if len(val) == 0 {
			c.ReplyInt(int64(len(e.Str)))
			return
		}
		if !c.checkStringLength(offset, int64(len(val))) {
			return
		}
	}
	need := int(offset) + len(val)
	if need > len(e.Str) {
		c.db.GrowString(e, need-len(e.Str))
	} else {
		e.SetRaw()
	}
	copy(e.Str[offset:], val)
	c.db.Updated(e)
	c.Notify(store.ClassString, "setrange", args[1])
	c.ReplyInt(int64(len(e.Str)))
}

func cmdLCS(c *Client, args [][]byte) {
	ea, eb := c.Lookup(args[1]), c.Lookup(args[2])
	if (ea != nil && ea.Obj != nil) || (eb != nil && eb.Obj != nil) {
		c.ReplyError("ERR The specified keys must contain string values")
		return
	}
	var a, b []byte
	if ea != nil {
		a = ea.Str
	}
	if eb != nil {
		b = eb.Str
	}
	var getLen, getIdx, withMatchLen bool
	var minMatch int64
	for j := 3; j < len(args); j++ {
		switch opt := args[j]; {
		case EqualFold(opt, "idx"):
			getIdx = true
		case EqualFold(opt, "len"):
			getLen = true
		case EqualFold(opt, "withmatchlen"):
			withMatchLen = true
		case EqualFold(opt, "minmatchlen") && j < len(args)-1:
			n, ok := c.IntArg(args[j+1])
			if !ok {
				return
			}
			minMatch = max(n, 0)
			j++
		default:
			c.ReplyError(ErrSyntax)
			return
		}
	}
	if getLen && getIdx {
		c.ReplyError("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	if int64(len(a)+1)*int64(len(b)+1)*4 > c.srv.protoMaxBulkLen.Load() {
		c.ReplyError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	alen, blen := len(a), len(b)
	w := blen + 1
	tab := make([]uint32, (alen+1)*w)
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				tab[i*w+j] = tab[(i-1)*w+j-1] + 1
			} else {
				tab[i*w+j] = max(tab[(i-1)*w+j], tab[i*w+j-1])
			}
		}
	}
	total := tab[alen*w+blen]
	if getLen {
		c.ReplyInt(int64(total))
		return
	}
	// Walk back from the end, collecting the LCS and, for IDX, the
	// matching ranges (emitted from the last to the first).
	result := make([]byte, total)
	idx := total
	type rng struct{ a0, a1, b0, b1 int }
	var ranges []rng
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0 // aStart == alen: no range open
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if tab[(i-1)*w+j] > tab[i*w+j-1] {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			if minMatch == 0 || int64(aEnd-aStart+1) >= minMatch {
				ranges = append(ranges, rng{aStart, aEnd, bStart, bEnd})
			}
			aStart = alen
		}
	}
	if !getIdx {
		c.ReplyBulk(result)
		return
	}
	c.ReplyMap(2)
	c.ReplyBulkString("matches")
	c.ReplyArray(len(ranges))
	for _, r := range ranges {
		if withMatchLen {
			c.ReplyArray(3)
		} else {
			c.ReplyArray(2)
		}
		c.ReplyArray(2)
		c.ReplyInt(int64(r.a0))
		c.ReplyInt(int64(r.a1))
		c.ReplyArray(2)
		c.ReplyInt(int64(r.b0))
		c.ReplyInt(int64(r.b1))
		if withMatchLen {
			c.ReplyInt(int64(r.a1 - r.a0 + 1))
		}
	}
	c.ReplyBulkString("len")
	c.ReplyInt(int64(total))
}
