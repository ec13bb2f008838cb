package cached

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"sync/atomic"

	"github.com/anvilstack/anvil/cached/collection"
	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/pkg/resp"
)

// The hash family: HSET HSETNX HGET HMGET HMSET HDEL HLEN HSTRLEN HEXISTS
// HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN. The values
// are collection.Hash; the encoding thresholds are CONFIG parameters kept
// in hashState.

// hashState is the family's server-wide state: the encoding thresholds
// CONFIG SET changes while commands read them.
type hashState struct {
	maxEntries atomic.Int64 // hash-max-listpack-entries
	maxValue   atomic.Int64 // hash-max-listpack-value
}

type hashStateKey struct{}

func (s *Server) hashState() *hashState {
	if st, ok := s.Family(hashStateKey{}).(*hashState); ok {
		return st
	}
	st := &hashState{}
	def := collection.DefaultLimits()
	st.maxEntries.Store(def.HashMaxListpackEntries)
	st.maxValue.Store(def.HashMaxListpackValue)
	s.SetFamily(hashStateKey{}, st)
	return st
}

func (st *hashState) limits() collection.Limits {
	return collection.Limits{HashMaxListpackEntries: st.maxEntries.Load(), HashMaxListpackValue: st.maxValue.Load()}
}

// setupHashSet registers the snapshot decoders of hashes and sets: a
// loaded value takes the encoding the thresholds give it at load time, as
// Redis's RDB loading does.
func (s *Server) setupHashSet() {
	hs, ss := s.hashState(), s.setState()
	s.RegisterSnapshotDecoder(store.KindHash, func(data []byte) (store.Object, error) {
		lim := hs.limits()
		return collection.DecodeHash(data, &lim)
	})
	s.RegisterSnapshotDecoder(store.KindSet, func(data []byte) (store.Object, error) {
		lim := ss.limits()
		return collection.DecodeSet(data, &lim)
	})
}

// hashParams are the family's CONFIG parameters.
func (s *Server) hashParams() []*Param {
	st := s.hashState()
	entries := IntParam("hash-max-listpack-entries", 0, math.MaxInt64, st.maxEntries.Load, st.maxEntries.Store)
	entries.Alias = "hash-max-ziplist-entries"
	value := MemoryParam("hash-max-listpack-value", 0, math.MaxInt64, st.maxValue.Load, st.maxValue.Store)
	value.Alias = "hash-max-ziplist-value"
	return []*Param{entries, value}
}

func (s *Server) hashCommands() []*Command {
	st := s.hashState()
	return []*Command{
		{Name: "hset", KeySpecs: []string{"RW update"}, Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Handler: func(c *Client, a [][]byte) { hsetGeneric(c, a, st, false) },
			Group: "hash", Since: "2.0.0", Summary: "Creates or modifies the value of a field in a hash.", Complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs."},
		{Name: "hmset", KeySpecs: []string{"RW update"}, Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Handler: func(c *Client, a [][]byte) { hsetGeneric(c, a, st, true) },
			Group: "hash", Since: "2.0.0", Summary: "Sets the values of multiple fields.", Complexity: "O(N) where N is the number of fields being set."},
		{Name: "hsetnx", KeySpecs: []string{"RW insert"}, Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Handler: func(c *Client, a [][]byte) { cmdHSetNX(c, a, st) },
			Group: "hash", Since: "2.0.0", Summary: "Sets the value of a field in a hash only when the field doesn't exist.", Complexity: "O(1)"},
		{Name: "hget", KeySpecs: []string{"RO access"}, Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Handler: cmdHGet,
			Group: "hash", Since: "2.0.0", Summary: "Returns the value of a field in a hash.", Complexity: "O(1)"},
		{Name: "hmget", KeySpecs: []string{"RO access"}, Arity: -3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Handler: cmdHMGet,
			Group: "hash", Since: "2.0.0", Summary: "Returns the values of all fields in a hash.", Complexity: "O(N) where N is the number of fields being requested."},
		{Name: "hdel", KeySpecs: []string{"RW delete"}, Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Handler: cmdHDel,
			Group: "hash", Since: "2.0.0", Summary: "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", Complexity: "O(N) where N is the number of fields to be removed."},
		{Name: "hlen", KeySpecs: []string{"RO"}, Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Handler: cmdHLen,
			Group: "hash", Since: "2.0.0", Summary: "Returns the number of fields in a hash.", Complexity: "O(1)"},
		{Name: "hstrlen", KeySpecs: []string{"RO"}, Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Handler: cmdHStrLen,
			Group: "hash", Since: "3.2.0", Summary: "Returns the length of the value of a field.", Complexity: "O(1)"},
		{Name: "hexists", KeySpecs: []string{"RO"}, Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Handler: cmdHExists,
			Group: "hash", Since: "2.0.0", Summary: "Determines whether a field exists in a hash.", Complexity: "O(1)"},
		{Name: "hkeys", KeySpecs: []string{"RO access"}, Arity: 2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Handler: func(c *Client, a [][]byte) { hgetallGeneric(c, a, true, false) },
			Group: "hash", Since: "2.0.0", Summary: "Returns all fields in a hash.", Complexity: "O(N) where N is the size of the hash."},
		{Name: "hvals", KeySpecs: []string{"RO access"}, Arity: 2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Handler: func(c *Client, a [][]byte) { hgetallGeneric(c, a, false, true) },
			Group: "hash", Since: "2.0.0", Summary: "Returns all values in a hash.", Complexity: "O(N) where N is the size of the hash."},
		{Name: "hgetall", KeySpecs: []string{"RO access"}, Arity: 2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Handler: func(c *Client, a [][]byte) { hgetallGeneric(c, a, true, true) },
			Group: "hash", Since: "2.0.0", Summary: "Returns all fields and values in a hash.", Complexity: "O(N) where N is the size of the hash."},
		{Name: "hincrby", KeySpecs: []string{"RW access update"}, Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Handler: func(c *Client, a [][]byte) { cmdHIncrBy(c, a, st) },
			Group: "hash", Since: "2.0.0", Summary: "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", Complexity: "O(1)"},
		{Name: "hincrbyfloat", KeySpecs: []string{"RW access update"}, Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Handler: func(c *Client, a [][]byte) { cmdHIncrByFloat(c, a, st) },
			Group: "hash", Since: "2.6.0", Summary: "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", Complexity: "O(1)"},
		{Name: "hrandfield", KeySpecs: []string{"RO access"}, Arity: -2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Handler: cmdHRandField,
			Group: "hash", Since: "6.2.0", Summary: "Returns one or more random fields from a hash.", Complexity: "O(N) where N is the number of fields returned"},
		{Name: "hscan", KeySpecs: []string{"RO access"}, Arity: -3, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Handler: cmdHScan,
			Group: "hash", Since: "2.8.0", Summary: "Iterates over fields and values of a hash.", Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."},
	}
}

// hashLookup finds key as a hash: (nil, nil, true) when it is missing,
// (nil, nil, false) after replying WRONGTYPE.
func hashLookup(c *Client, key []byte, write bool) (*store.Entry, *collection.Hash, bool) {
	e, ok := c.LookupKind(key, store.KindHash, write)
	if !ok || e == nil {
		return nil, nil, ok
	}
	return e, e.Obj.(*collection.Hash), true
}

// hashForWrite finds key's hash for a command that adds to it, or a new
// empty one (e nil) that hashSave stores once something was added: an
// empty hash never enters the keyspace.
func hashForWrite(c *Client, key []byte) (*store.Entry, *collection.Hash, bool) {
	e, h, ok := hashLookup(c, key, true)
	if ok && h == nil {
		h = collection.NewHash()
	}
	return e, h, ok
}

// hashSave records the change of a hash from hashForWrite: it stores a
// new one, or re-accounts an existing one (and invalidates WATCH and
// tracking).
func hashSave(c *Client, key []byte, e *store.Entry, h *collection.Hash) {
	if e == nil {
		c.db.SetObject(key, h, c.now, false)
		return
	}
	c.db.Updated(e)
}

func hsetGeneric(c *Client, args [][]byte, st *hashState, hmset bool) {
	if len(args)%2 == 1 {
		c.ReplyWrongArity()
		return
	}
	e, h, ok := hashForWrite(c, args[1])
	if !ok {
		return
	}
	lim := st.limits()
	h.PrepareSet(args[2:], &lim)
	created := int64(0)
	for i := 2; i < len(args); i += 2 {
		if h.Set(args[i], args[i+1], &lim) {
			created++
		}
	}
	hashSave(c, args[1], e, h)
	if hmset {
		c.ReplyOK()
	} else {
		c.ReplyInt(created)
	}
	c.Notify(store.ClassHash, "hset", args[1])
}

func cmdHSetNX(c *Client, args [][]byte, st *hashState) {
	e, h, ok := hashForWrite(c, args[1])
	if !ok {
		return
	}
	if h.Exists(args[2]) {
		c.Unchanged()
		c.ReplyInt(0)
		return
	}
	lim := st.limits()
	h.PrepareSet(args[2:4], &lim)
	h.Set(args[2], args[3], &lim)
	hashSave(c, args[1], e, h)
	c.ReplyInt(1)
	c.Notify(store.ClassHash, "hset", args[1])
}

func cmdHGet(c *Client, args [][]byte) {
	_, h, ok := hashLookup(c, args[1], false)
	if !ok {
		return
	}
	if h == nil {
		c.ReplyNull()
		return
	}
	if v, found := h.Get(args[2]); found {
		c.ReplyBulk(v)
	} else {
		c.ReplyNull()
	}
}

func cmdHMGet(c *Client, args [][]byte) {
	_, h, ok := hashLookup(c, args[1], false)
	if !ok {
		return
	}
	c.ReplyArray(len(args) - 2)
	for _, f := range args[2:] {
		var v []byte
		found := false
		if h != nil {
			v, found = h.Get(f)
		}
		if found {
			c.ReplyBulk(v)
		} else {
			c.ReplyNull()
		}
	}
}

func cmdHDel(c *Client, args [][]byte) {
	e, h, ok := hashLookup(c, args[1], true)
	if !ok {
		return
	}
	if h == nil {
		c.Unchanged()
		c.ReplyInt(0)
		return
	}
	c.ReplyInt(removeMembers(c, e, args, h.Delete, h.Len, store.ClassHash, "hdel"))
}

// removeMembers deletes the members args[2:] from the collection of entry e
// at args[1] (HDEL, SREM, ZREM): a collection left empty leaves the
// keyspace, and the events are Redis's (the command's, then "del" when the
// key went). It returns how many members were there.
func removeMembers(c *Client, e *store.Entry, args [][]byte, del func([]byte) bool, size func() int, class store.Class, event string) int64 {
	deleted, removed := int64(0), false
	for _, m := range args[2:] {
		if del(m) {
			deleted++
			if size() == 0 {
				c.db.Unlink(e)
				removed = true
				break
			}
		}
	}
	if deleted == 0 {
		c.Unchanged()
		return 0
	}
	if !removed {
		c.db.Updated(e)
	}
	c.Notify(class, event, args[1])
	if removed {
		c.Notify(store.ClassGeneric, "del", args[1])
	}
	return deleted
}

func cmdHLen(c *Client, args [][]byte) {
	_, h, ok := hashLookup(c, args[1], false)
	if !ok {
		return
	}
	if h == nil {
		c.ReplyInt(0)
		return
	}
	c.ReplyInt(int64(h.Len()))
}

func cmdHStrLen(c *Client, args [][]byte) {
	_, h, ok := hashLookup(c, args[1], false)
	if !ok {
		return
	}
	n := 0
	if h != nil {
		v, _ := h.Get(args[2])
		n = len(v)
	}
	c.ReplyInt(int64(n))
}

func cmdHExists(c *Client, args [][]byte) {
	_, h, ok := hashLookup(c, args[1], false)
	if !ok {
		return
	}
	if h != nil && h.Exists(args[2]) {
		c.ReplyInt(1)
	} else {
		c.ReplyInt(0)
	}
}

// hgetallGeneric is HKEYS, HVALS and HGETALL: fields and values make a
// map (RESP3), either alone a flat array.
func hgetallGeneric(c *Client, args [][]byte, fields, values bool) {
	_, h, ok := hashLookup(c, args[1], false)
	if !ok {
		return
	}
	n := 0
	if h != nil {
		n = h.Len()
	}
	if fields && values {
		c.ReplyMap(n)
	} else {
		c.ReplyArray(n)
	}
	if h == nil {
		return
	}
	h.Each(func(f, v []byte) {
		if fields {
			c.ReplyBulk(f)
		}
		if values {
			c.ReplyBulk(v)
		}
	})
}

func cmdHIncrBy(c *Client, args [][]byte, st *hashState) {
	incr, ok := c.IntArg(args[3])
	if !ok {
		return
	}
	e, h, ok := hashForWrite(c, args[1])
	if !ok {
		return
	}
	var cur int64
	if v, found := h.Get(args[2]); found {
		if cur, ok = ParseInt(v); !ok {
			c.ReplyError("ERR hash value is not an integer")
			return
		}
	}
	if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) || (incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
		c.ReplyError(ErrOverflow)
		return
	}
	cur += incr
	var buf [24]byte
	lim := st.limits()
	h.Set(args[2], strconv.AppendInt(buf[:0], cur, 10), &lim)
	hashSave(c, args[1], e, h)
	c.ReplyInt(cur)
	c.Notify(store.ClassHash, "hincrby", args[1])
}

// maxLongDoubleChars is the longest string Redis reads as a long double
// (string2ld refuses longer ones).
const maxLongDoubleChars = 5 * 1024

func parseHashFloat(b []byte) (*big.Float, bool) {
	if len(b) >= maxLongDoubleChars {
		return nil, false
	}
	return parseLongDouble(b)
}

func cmdHIncrByFloat(c *Client, args [][]byte, st *hashState) {
	incr, ok := parseHashFloat(args[3])
	if !ok {
		c.ReplyError(ErrNotFloat)
		return
	}
	if incr.IsInf() {
		c.ReplyError("ERR value is NaN or Infinity")
		return
	}
	e, h, ok := hashForWrite(c, args[1])
	if !ok {
		return
	}
	cur := newLongDouble()
	if v, found := h.Get(args[2]); found {
		if cur, ok = parseHashFloat(v); !ok {
			c.ReplyError("ERR hash value is not a float")
			return
		}
	}
	cur.Add(cur, incr)
	if cur.IsInf() || longDoubleOverflows(cur) {
		c.ReplyError("ERR increment would produce NaN or Infinity")
		return
	}
	var buf [64]byte
	nb := formatLongDouble(buf[:0], cur)
	lim := st.limits()
	h.Set(args[2], nb, &lim)
	hashSave(c, args[1], e, h)
	c.ReplyBulk(nb)
	c.Notify(store.ClassHash, "hincrbyfloat", args[1])
}

// maxRandomCount bounds the reply of HRANDFIELD and SRANDMEMBER with a
// negative count (elements may repeat, so the set's size does not bound
// it): Redis would build any such reply in memory until the process runs
// out of it; cached refuses instead.
const maxRandomCount = 1 << 24

// randomCountArg parses the count of HRANDFIELD and SRANDMEMBER: a long
// in [-LONG_MAX, LONG_MAX], as Redis's getRangeLongFromObjectOrReply.
func randomCountArg(c *Client, arg []byte) (int64, bool) {
	n, ok := c.IntArg(arg)
	if !ok {
		return 0, false
	}
	if n < -math.MaxInt64 {
		c.ReplyError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return 0, false
	}
	return n, true
}

// checkRandomCount refuses a negative count beyond maxRandomCount.
func checkRandomCount(c *Client, n int64) bool {
	if n < -maxRandomCount {
		c.ReplyError("ERR value is out of range, a negative count must be at least -" + strconv.Itoa(maxRandomCount) + " (cached bounds the size of a random reply)")
		return false
	}
	return true
}

func cmdHRandField(c *Client, args [][]byte) {
	if len(args) == 2 {
		_, h, ok := hashLookup(c, args[1], false)
		if !ok {
			return
		}
		if h == nil {
			c.ReplyNull()
			return
		}
		v := h.View(nil)
		f, _ := v.Pair(rand.IntN(h.Len()))
		c.ReplyBulk(f)
		return
	}
	count, ok := randomCountArg(c, args[2])
	if !ok {
		return
	}
	withValues := false
	if len(args) > 4 || (len(args) == 4 && !EqualFold(args[3], "withvalues")) {
		c.ReplyError(ErrSyntax)
		return
	} else if len(args) == 4 {
		withValues = true
		if count < -math.MaxInt64/2 || count > math.MaxInt64/2 {
			c.ReplyError("ERR value is out of range")
			return
		}
	}
	_, h, ok := hashLookup(c, args[1], false)
	if !ok {
		return
	}
	if h == nil || count == 0 {
		c.ReplyArray(0)
		return
	}
	if !checkRandomCount(c, count) {
		return
	}
	size := h.Len()
	unique := count > 0
	n := int(min(max(count, -count), int64(math.MaxInt)))
	if unique {
		n = min(n, size)
	}
	if withValues && c.proto == resp.Proto2 {
		c.ReplyArray(2 * n)
	} else {
		c.ReplyArray(n)
	}
	view := h.View(nil)
	emit := func(i int) {
		f, v := view.Pair(i)
		if withValues && c.proto != resp.Proto2 {
			c.ReplyArray(2)
		}
		c.ReplyBulk(f)
		if withValues {
			c.ReplyBulk(v)
		}
	}
	switch {
	case !unique || count == 1:
		for range n {
			emit(rand.IntN(size))
		}
	case n == size:
		for i := range size {
			emit(i)
		}
	default:
		for _, i := range collection.SamplePositions(size, n) {
			emit(i)
		}
	}
}

func cmdHScan(c *Client, args [][]byte) {
	e, cursor, opt, ok := scanStart(c, args, store.KindHash)
	if !ok {
		return
	}
	h := e.Obj.(*collection.Hash)
	body := c.Scratch()
	n := 0
	next := h.Scan(cursor, opt.Count, func(f, v []byte) {
		if opt.Match != nil && !GlobMatch(opt.Match, f, false) {
			return
		}
		body = resp.AppendBulk(body, f)
		body = resp.AppendBulk(body, v)
		n += 2
	})
	replyScan(c, next, n, body)
}

// scanStart begins HSCAN, SSCAN and ZSCAN in Redis's order: the cursor,
// then the key as the given kind, then (only when the key exists) the
// options. ok is false once a reply has been written: an error, or the
// empty scan of a missing key.
func scanStart(c *Client, args [][]byte, kind store.Kind) (e *store.Entry, cursor uint64, opt ScanOptions, ok bool) {
	if cursor, ok = c.ParseCursor(args[2]); !ok {
		return nil, 0, opt, false
	}
	if e, ok = c.LookupKind(args[1], kind, false); !ok {
		return nil, 0, opt, false
	}
	if e == nil {
		c.ReplyArray(2)
		c.ReplyBulkString("0")
		c.ReplyArray(0)
		return nil, 0, opt, false
	}
	opt, ok = c.ParseScanOptions(args, 3, false)
	return e, cursor, opt, ok
}

// replyScan writes a *SCAN reply whose n elements are in body (the
// client's scratch buffer).
func replyScan(c *Client, next uint64, n int, body []byte) {
	c.ReplyArray(2)
	c.ReplyBulkString(strconv.FormatUint(next, 10))
	c.ReplyArray(n)
	c.ReplyRaw(body)
	c.SetScratch(body)
}
