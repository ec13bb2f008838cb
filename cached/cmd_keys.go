package cached

import (
	"bytes"
	"math"
	"strconv"

	"github.com/anvilstack/anvil/cached/store"
)

// The generic key family: DEL EXISTS TYPE RENAME COPY MOVE KEYS SCAN
// RANDOMKEY TOUCH and the EXPIRE/TTL commands.

func keyCommands() []*Command {
	return []*Command{
		{Name: "del", Arity: -2, Flags: FlagWrite, First: 1, Last: -1, Step: 1, KeySpecs: []string{"RM delete"}, Handler: cmdDel,
			Group: "generic", Since: "1.0.0", Summary: "Deletes one or more keys.", Complexity: "O(N) where N is the number of keys that will be removed."},
		{Name: "unlink", Arity: -2, Flags: FlagWrite | FlagFast, First: 1, Last: -1, Step: 1, KeySpecs: []string{"RM delete"}, Handler: cmdDel,
			Group: "generic", Since: "4.0.0", Summary: "Asynchronously deletes one or more keys.", Complexity: "O(1) for each key removed regardless of its size."},
		{Name: "exists", Arity: -2, Flags: FlagReadOnly | FlagFast, First: 1, Last: -1, Step: 1, KeySpecs: []string{"RO"}, Handler: cmdExists,
			Group: "generic", Since: "1.0.0", Summary: "Determines whether one or more keys exist.", Complexity: "O(N) where N is the number of keys to check."},
		{Name: "type", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO"}, Handler: cmdType,
			Group: "generic", Since: "1.0.0", Summary: "Determines the type of value stored at a key.", Complexity: "O(1)"},
		{Name: "touch", Arity: -2, Flags: FlagReadOnly | FlagFast, First: 1, Last: -1, Step: 1, KeySpecs: []string{"RO"}, Handler: cmdTouch,
			Group: "generic", Since: "3.2.1", Summary: "Returns the number of existing keys out of those specified after updating the time they were last accessed.", Complexity: "O(N) where N is the number of keys that will be touched."},
		{Name: "rename", Arity: 3, Flags: FlagWrite, First: 1, Last: 2, Step: 1, KeySpecs: []string{"RW access delete", "OW update"}, Handler: cmdRename,
			Group: "generic", Since: "1.0.0", Summary: "Renames a key and overwrites the destination.", Complexity: "O(1)"},
		{Name: "renamenx", Arity: 3, Flags: FlagWrite | FlagFast, First: 1, Last: 2, Step: 1, KeySpecs: []string{"RW access delete", "OW insert"}, Handler: cmdRenameNX,
			Group: "generic", Since: "1.0.0", Summary: "Renames a key only when the target key name doesn't exist.", Complexity: "O(1)"},
		{Name: "copy", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 2, Step: 1, KeySpecs: []string{"RO access", "OW update"}, Handler: cmdCopy, Lock: lockCopy,
			Group: "generic", Since: "6.2.0", Summary: "Copies the value of a key to a new key.", Complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values."},
		{Name: "move", Arity: 3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW access update"}, Handler: cmdMove, Lock: lockMove,
			Group: "generic", Since: "1.0.0", Summary: "Moves a key to another database.", Complexity: "O(1)"},
		{Name: "keys", Arity: 2, Flags: FlagReadOnly | FlagKeyspace, Handler: cmdKeys,
			Group: "generic", ACL: []string{"@dangerous"}, Since: "1.0.0", Summary: "Returns all key names that match a pattern.", Complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length."},
		{Name: "scan", Arity: -2, Flags: FlagReadOnly | FlagKeyspace, Handler: cmdScan,
			Group: "generic", Since: "2.8.0", Summary: "Iterates over the key names in the database.", Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."},
		{Name: "randomkey", Arity: 1, Flags: FlagReadOnly | FlagKeyspace, Handler: cmdRandomKey,
			Group: "generic", Since: "1.0.0", Summary: "Returns a random key name from the database.", Complexity: "O(1)"},
		{Name: "expire", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW update"}, Handler: cmdExpire,
			Group: "generic", Since: "1.0.0", Summary: "Sets the expiration time of a key in seconds.", Complexity: "O(1)"},
		{Name: "pexpire", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW update"}, Handler: cmdPExpire,
			Group: "generic", Since: "2.6.0", Summary: "Sets the expiration time of a key in milliseconds.", Complexity: "O(1)"},
		{Name: "expireat", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW update"}, Handler: cmdExpireAt,
			Group: "generic", Since: "1.2.0", Summary: "Sets the expiration time of a key to a Unix timestamp.", Complexity: "O(1)"},
		{Name: "pexpireat", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW update"}, Handler: cmdPExpireAt,
			Group: "generic", Since: "2.6.0", Summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.", Complexity: "O(1)"},
		{Name: "ttl", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO access"}, Handler: func(c *Client, a [][]byte) { ttlGeneric(c, a, false, false) },
			Group: "generic", Since: "1.0.0", Summary: "Returns the expiration time in seconds of a key.", Complexity: "O(1)"},
		{Name: "pttl", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO access"}, Handler: func(c *Client, a [][]byte) { ttlGeneric(c, a, true, false) },
			Group: "generic", Since: "2.6.0", Summary: "Returns the expiration time in milliseconds of a key.", Complexity: "O(1)"},
		{Name: "expiretime", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO access"}, Handler: func(c *Client, a [][]byte) { ttlGeneric(c, a, false, true) },
			Group: "generic", Since: "7.0.0", Summary: "Returns the expiration time of a key as a Unix timestamp.", Complexity: "O(1)"},
		{Name: "pexpiretime", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO access"}, Handler: func(c *Client, a [][]byte) { ttlGeneric(c, a, true, true) },
			Group: "generic", Since: "7.0.0", Summary: "Returns the expiration time of a key as a Unix milliseconds timestamp.", Complexity: "O(1)"},
		{Name: "persist", Arity: 2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW update"}, Handler: cmdPersist,
			Group: "generic", Since: "2.2.0", Summary: "Removes the expiration time of a key.", Complexity: "O(1)"},
	}
}

func cmdDel(c *Client, args [][]byte) {
	n := int64(0)
	for _, k := range args[1:] {
		if c.db.Delete(k, c.now) {
			c.Notify(store.ClassGeneric, "del", k)
			n++
		}
	}
	c.ReplyInt(n)
}

func cmdExists(c *Client, args [][]byte) {
	n := int64(0)
	for _, k := range args[1:] {
		if c.db.Lookup(k, c.now, store.NoTouch) != nil {
			n++
		}
	}
	c.ReplyInt(n)
}

func cmdType(c *Client, args [][]byte) {
	e := c.db.Lookup(args[1], c.now, store.NoTouch)
	if e == nil {
		c.ReplySimple("none")
		return
	}
	c.ReplySimple(e.Kind().String())
}

func cmdTouch(c *Client, args [][]byte) {
	n := int64(0)
	for _, k := range args[1:] {
		if c.db.Lookup(k, c.now, c.LookupFlags()) != nil {
			n++
		}
	}
	c.ReplyInt(n)
}

func cmdRename(c *Client, args [][]byte)   { renameGeneric(c, args, false) }
func cmdRenameNX(c *Client, args [][]byte) { renameGeneric(c, args, true) }

func renameGeneric(c *Client, args [][]byte, nx bool) {
	src, dst := args[1], args[2]
	if c.LookupWrite(src) == nil {
		c.ReplyError(ErrNoSuchKey)
		return
	}
	if bytes.Equal(src, dst) {
		if nx {
			c.ReplyInt(0)
		} else {
			c.ReplyOK()
		}
		return
	}
	if c.LookupWrite(dst) != nil && nx {
		c.ReplyInt(0)
		return
	}
	c.db.Rename(src, c.db, dst, c.now)
	c.Notify(store.ClassGeneric, "rename_from", src)
	c.Notify(store.ClassGeneric, "rename_to", dst)
	if nx {
		c.ReplyInt(1)
	} else {
		c.ReplyOK()
	}
}

// lockMove locks the key in the current database and in the target one
// (when the target parses; the handler reports a bad one).
func lockMove(c *Client, args [][]byte, ls *store.LockSet) {
	ls.Add(c.db, args[1])
	if n, ok := ParseInt(args[2]); ok && n >= 0 && n < int64(c.srv.ks.DBs()) {
		ls.Add(c.srv.ks.DB(int(n)), args[1])
	}
}

func cmdMove(c *Client, args [][]byte) {
	n, ok := ParseInt(args[2])
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		c.ReplyError(ErrNotInt)
		return
	}
	if n < 0 || n >= int64(c.srv.ks.DBs()) {
		c.ReplyError(ErrDBIndex)
		return
	}
	dst := c.srv.ks.DB(int(n))
	if dst == c.db {
		c.ReplyError(ErrSameObject)
		return
	}
	key := args[1]
	if c.LookupWrite(key) == nil {
		c.ReplyInt(0)
		return
	}
	if dst.Lookup(key, c.now, store.NoStats|store.NoTouch) != nil {
		c.ReplyInt(0)
		return
	}
	c.db.Rename(key, dst, key, c.now)
	c.Notify(store.ClassGeneric, "move_from", key)
	c.NotifyDB(store.ClassGeneric, "move_to", dst.ID(), key)
	c.ReplyInt(1)
}

// copyTarget parses COPY's options: the target database and REPLACE.
func copyTarget(c *Client, args [][]byte, reply bool) (db *store.DB, replace, ok bool) {
	db = c.db
	for j := 3; j < len(args); j++ {
		switch {
		case EqualFold(args[j], "replace"):
			replace = true
		case EqualFold(args[j], "db") && j < len(args)-1:
			n, ok := ParseInt(args[j+1])
			if !ok {
				if reply {
					c.ReplyError(ErrNotInt)
				}
				return nil, false, false
			}
			if n < 0 || n >= int64(c.srv.ks.DBs()) {
				if reply {
					c.ReplyError(ErrDBIndex)
				}
				return nil, false, false
			}
			db = c.srv.ks.DB(int(n))
			j++
		default:
			if reply {
				c.ReplyError(ErrSyntax)
			}
			return nil, false, false
		}
	}
	return db, replace, true
}

func lockCopy(c *Client, args [][]byte, ls *store.LockSet) {
	ls.Add(c.db, args[1])
	if db, _, ok := copyTarget(c, args, false); ok {
		ls.Add(db, args[2])
	} else {
		ls.Add(c.db, args[2])
	}
}

// Copier is implemented by Object types that COPY can duplicate.
type Copier interface {
	Copy() store.Object
}

func cmdCopy(c *Client, args [][]byte) {
	dstDB, replace, ok := copyTarget(c, args, true)
	if !ok {
		return
	}
	src, dst := args[1], args[2]
	if dstDB == c.db && bytes.Equal(src, dst) {
		c.ReplyError(ErrSameObject)
		return
	}
	e := c.Lookup(src)
	if e == nil {
		c.ReplyInt(0)
		return
	}
	if dstDB.Lookup(dst, c.now, store.NoStats|store.NoTouch) != nil {
		if !replace {
			c.ReplyInt(0)
			return
		}
		dstDB.Delete(dst, c.now)
	}
	var obj store.Object
	if e.Obj != nil {
		cp, ok := e.Obj.(Copier)
		if !ok {
			c.ReplyError("ERR COPY of a " + e.Kind().String() + " value is not supported")
			return
		}
		obj = cp.Copy()
	}
	dstDB.Insert(dst, e.Str, obj, e.Expire(), c.now)
	c.NotifyDB(store.ClassGeneric, "copy_to", dstDB.ID(), dst)
	c.ReplyInt(1)
}

func cmdKeys(c *Client, args [][]byte) {
	pattern := args[1]
	all := len(pattern) == 1 && pattern[0] == '*'
	keys := c.keysBuf[:0]
	collect := func(e *store.Entry) {
		k := e.Key()
		if all || GlobMatch(pattern, []byte(k), false) {
			keys = append(keys, k)
		}
	}
	// Every shard stays locked for the walk, so the reply is the keyspace
	// at one instant, as Redis's KEYS (which holds up the whole server)
	// gives: a key renamed meanwhile from a shard not walked yet to one
	// already walked is not missed. The reply is built shard by shard in
	// a scratch buffer: the array length is known only at the end.
	body := c.Scratch()
	n := 0
	if !c.inExec {
		c.ls.ReadOnly = true // a save in progress serializes no shard for KEYS
	}
	c.LockDB(c.db)
	for i := 0; i < c.db.Shards(); i++ {
		keys = keys[:0]
		c.db.ForEachShardLocked(c.db.ShardAt(i), c.now, collect)
		for _, k := range keys {
			body = appendBulkString(body, k)
			n++
		}
	}
	c.UnlockDB()
	c.ReplyArray(n)
	c.ReplyRaw(body)
	c.scratch = body[:0]
	clear(keys)
	c.keysBuf = keys[:0]
}

// ParseCursor parses a SCAN-family cursor as Redis's strtoul does,
// replying "invalid cursor" when it is not one.
func (c *Client) ParseCursor(arg []byte) (uint64, bool) {
	s := arg
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var v uint64
	var err error
	if len(s) > 0 {
		v, err = strconv.ParseUint(string(s), 10, 64)
	}
	if err != nil || (len(arg) > 0 && isSpaceByte(arg[0])) || (len(s) == 0 && len(arg) > 0) {
		c.ReplyError("ERR invalid cursor")
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// ScanOptions are the options of SCAN, HSCAN, SSCAN and ZSCAN.
type ScanOptions struct {
	Match []byte // nil: every element
	Count int    // 10 by default
	Type  []byte // SCAN only; nil: every type
}

// ParseScanOptions parses MATCH, COUNT and (for SCAN, allowType) TYPE from
// args[from:], replying Redis's errors.
func (c *Client) ParseScanOptions(args [][]byte, from int, allowType bool) (ScanOptions, bool) {
	opt := ScanOptions{Count: 10}
	for i := from; i < len(args); i += 2 {
		left := len(args) - i
		switch {
		case EqualFold(args[i], "count") && left >= 2:
			n, ok := c.IntArg(args[i+1])
			if !ok {
				return opt, false
			}
			if n < 1 {
				c.ReplyError(ErrSyntax)
				return opt, false
			}
			opt.Count = int(min(n, math.MaxInt32))
		case EqualFold(args[i], "match") && left >= 2:
			opt.Match = args[i+1]
			if len(opt.Match) == 1 && opt.Match[0] == '*' {
				opt.Match = nil
			}
		case allowType && EqualFold(args[i], "type") && left >= 2:
			opt.Type = args[i+1]
		default:
			c.ReplyError(ErrSyntax)
			return opt, false
		}
	}
	return opt, true
}

func cmdScan(c *Client, args [][]byte) {
	cursor, ok := c.ParseCursor(args[1])
	if !ok {
		return
	}
	opt, ok := c.ParseScanOptions(args, 2, true)
	if !ok {
		return
	}
	keys := c.keysBuf[:0]
	fn := func(e *store.Entry) {
		k := e.Key()
		if opt.Match != nil && !GlobMatch(opt.Match, []byte(k), false) {
			return
		}
		if opt.Type != nil && !EqualFold(opt.Type, e.Kind().String()) {
			return
		}
		keys = append(keys, k)
	}
	// Keys are copied into the reply while their shard is locked.
	body := c.Scratch()
	n := 0
	flush := func() {
		for _, k := range keys {
			body = appendBulkString(body, k)
			n++
		}
		keys = keys[:0]
	}
	var next uint64
	if c.inExec {
		next = c.db.ScanLocked(cursor, opt.Count, c.now, fn)
		flush()
	} else {
		next = c.db.ScanWith(cursor, opt.Count, c.now, fn, flush)
	}
	c.ReplyArray(2)
	c.ReplyBulkString(strconv.FormatUint(next, 10))
	c.ReplyArray(n)
	c.ReplyRaw(body)
	c.scratch = body[:0]
	clear(keys)
	c.keysBuf = keys[:0]
}

func cmdRandomKey(c *Client, args [][]byte) {
	var k []byte
	if c.inExec {
		k = c.db.RandomKeyLocked(c.now)
	} else {
		k = c.db.RandomKey(c.now)
	}
	if k == nil {
		c.ReplyNull()
		return
	}
	c.ReplyBulk(k)
}

func cmdExpire(c *Client, args [][]byte)    { expireGeneric(c, args, c.now, 1000) }
func cmdPExpire(c *Client, args [][]byte)   { expireGeneric(c, args, c.now, 1) }
func cmdExpireAt(c *Client, args [][]byte)  { expireGeneric(c, args, 0, 1000) }
func cmdPExpireAt(c *Client, args [][]byte) { expireGeneric(c, args, 0, 1) }

func expireGeneric(c *Client, args [][]byte, base, unit int64) {
	var nx, xx, gt, lt bool
	for _, opt := range args[3:] {
		switch {
		case EqualFold(opt, "nx"):
			nx = true
		case EqualFold(opt, "xx"):
			xx = true
		case EqualFold(opt, "gt"):
			gt = true
		case EqualFold(opt, "lt"):
			lt = true
		default:
			c.ReplyError("ERR Unsupported option " + string(opt))
			return
		}
	}
	if nx && (xx || gt || lt) {
		c.ReplyError("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if gt && lt {
		c.ReplyError("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := c.IntArg(args[2])
	if !ok {
		return
	}
	if unit == 1000 {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.replyInvalidExpire()
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		c.replyInvalidExpire()
		return
	}
	when += base
	key := args[1]
	e := c.LookupWrite(key)
	if e == nil {
		c.ReplyInt(0)
		return
	}
	cur := e.Expire() // 0: none
	switch {
	case nx && cur != 0,
		xx && cur == 0,
		gt && (cur == 0 || when <= cur),
		lt && cur != 0 && when >= cur:
		c.ReplyInt(0)
		return
	}
	if when <= c.now {
		c.db.Unlink(e)
		c.Notify(store.ClassGeneric, "del", key)
		c.ReplyInt(1)
		return
	}
	c.db.SetExpire(e, when)
	c.Notify(store.ClassGeneric, "expire", key)
	c.ReplyInt(1)
}

func ttlGeneric(c *Client, args [][]byte, ms, abs bool) {
	e := c.db.Lookup(args[1], c.now, store.NoTouch)
	if e == nil {
		c.ReplyInt(-2)
		return
	}
	exp := e.Expire()
	if exp == 0 {
		c.ReplyInt(-1)
		return
	}
	ttl := exp
	if !abs {
		ttl = max(exp-c.now, 0)
	}
	if !ms {
		ttl = (ttl + 500) / 1000
	}
	c.ReplyInt(ttl)
}

func cmdPersist(c *Client, args [][]byte) {
	e := c.LookupWrite(args[1])
	if e == nil || e.Expire() == 0 {
		c.ReplyInt(0)
		return
	}
	c.db.SetExpire(e, 0)
	c.Notify(store.ClassGeneric, "persist", args[1])
	c.ReplyInt(1)
}
