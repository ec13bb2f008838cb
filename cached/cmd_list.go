package cached

import (
	"bytes"
	"math"
	"sync/atomic"

	"github.com/anvilstack/anvil/cached/list"
	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/pkg/resp"
)

// The list family: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX
// LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP, and the blocking
// BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP (cmd_list_block.go). Values are
// *list.List (package cached/list). Replies, errors, the order of checks
// and the keyspace events follow Redis 7.0's t_list.c.

// listState is the family's server-wide state: the node size lists are
// made with (list-max-listpack-size) and list-compress-depth, which only
// CONFIG reports (nodes are never compressed).
type listState struct {
	fill     atomic.Int64
	compress atomic.Int64
}

type listStateKey struct{}

// lists returns the family's state, creating it while New builds the
// server.
func (s *Server) lists() *listState {
	if st, ok := s.Family(listStateKey{}).(*listState); ok {
		return st
	}
	st := &listState{}
	st.fill.Store(-2)
	s.SetFamily(listStateKey{}, st)
	return st
}

// listParams are the family's CONFIG parameters.
func (s *Server) listParams() []*Param {
	st := s.lists()
	fill := IntParam("list-max-listpack-size", math.MinInt32, math.MaxInt32, st.fill.Load, st.fill.Store)
	fill.Alias = "list-max-ziplist-size"
	return []*Param{
		fill,
		IntParam("list-compress-depth", 0, math.MaxInt32, st.compress.Load, st.compress.Store),
	}
}

func (s *Server) listCommands() []*Command {
	st := s.lists()
	s.RegisterSnapshotDecoder(store.KindList, func(data []byte) (store.Object, error) {
		return list.Decode(data, int(st.fill.Load()))
	})
	const w, r = FlagWrite, FlagReadOnly
	one := func(c *Command) *Command {
		c.First, c.Last, c.Step = 1, 1, 1
		c.Group = "list"
		return c
	}
	two := func(c *Command) *Command { // the moves: source, then destination
		c.First, c.Last, c.Step = 1, 2, 1
		c.KeySpecs = []string{"RW access delete", "RW insert"}
		c.Group = "list"
		return c
	}
	const pushCx = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."
	return []*Command{
		one(&Command{Name: "lpush", KeySpecs: []string{"RW insert"}, Arity: -3, Flags: w | FlagDenyOOM | FlagFast, Handler: cmdLPush,
			Since: "1.0.0", Summary: "Prepends one or more elements to a list. Creates the key if it doesn't exist.", Complexity: pushCx}),
		one(&Command{Name: "rpush", KeySpecs: []string{"RW insert"}, Arity: -3, Flags: w | FlagDenyOOM | FlagFast, Handler: cmdRPush,
			Since: "1.0.0", Summary: "Appends one or more elements to a list. Creates the key if it doesn't exist.", Complexity: pushCx}),
		one(&Command{Name: "lpushx", KeySpecs: []string{"RW insert"}, Arity: -3, Flags: w | FlagDenyOOM | FlagFast, Handler: cmdLPushX,
			Since: "2.2.0", Summary: "Prepends one or more elements to a list only when the list exists.", Complexity: pushCx}),
		one(&Command{Name: "rpushx", KeySpecs: []string{"RW insert"}, Arity: -3, Flags: w | FlagDenyOOM | FlagFast, Handler: cmdRPushX,
			Since: "2.2.0", Summary: "Appends an element to a list only when the list exists.", Complexity: pushCx}),
		one(&Command{Name: "lpop", KeySpecs: []string{"RW access delete"}, Arity: -2, Flags: w | FlagFast, Handler: cmdLPop,
			Since: "1.0.0", Summary: "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", Complexity: "O(N) where N is the number of elements returned"}),
		one(&Command{Name: "rpop", KeySpecs: []string{"RW access delete"}, Arity: -2, Flags: w | FlagFast, Handler: cmdRPop,
			Since: "1.0.0", Summary: "Returns and removes the last elements of a list. Deletes the list if the last element was popped.", Complexity: "O(N) where N is the number of elements returned"}),
		one(&Command{Name: "llen", KeySpecs: []string{"RO"}, Arity: 2, Flags: r | FlagFast, Handler: cmdLLen,
			Since: "1.0.0", Summary: "Returns the length of a list.", Complexity: "O(1)"}),
		one(&Command{Name: "lrange", Arity: 4, Flags: r, Handler: cmdLRange,
			Since: "1.0.0", Summary: "Returns a range of elements from a list.", Complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range."}),
		one(&Command{Name: "lindex", Arity: 3, Flags: r, Handler: cmdLIndex,
			Since: "1.0.0", Summary: "Returns an element from a list by its index.", Complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1)."}),
		one(&Command{Name: "lset", KeySpecs: []string{"RW update"}, Arity: 4, Flags: w | FlagDenyOOM, Handler: cmdLSet,
			Since: "1.0.0", Summary: "Sets the value of an element in a list by its index.", Complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1)."}),
		one(&Command{Name: "linsert", KeySpecs: []string{"RW insert"}, Arity: 5, Flags: w | FlagDenyOOM, Handler: cmdLInsert,
			Since: "2.2.0", Summary: "Inserts an element before or after another element in a list.", Complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N)."}),
		one(&Command{Name: "lrem", KeySpecs: []string{"RW delete"}, Arity: 4, Flags: w, Handler: cmdLRem,
			Since: "1.0.0", Summary: "Removes elements from a list. Deletes the list if the last element was removed.", Complexity: "O(N+M) where N is the length of the list and M is the number of elements removed."}),
		one(&Command{Name: "ltrim", KeySpecs: []string{"RW delete"}, Arity: 4, Flags: w, Handler: cmdLTrim,
			Since: "1.0.0", Summary: "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", Complexity: "O(N) where N is the number of elements to be removed by the operation."}),
		one(&Command{Name: "lpos", Arity: -3, Flags: r, Handler: cmdLPos,
			Since: "6.0.6", Summary: "Returns the index of matching elements in a list.", Complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time."}),
		two(&Command{Name: "lmove", Arity: 5, Flags: w | FlagDenyOOM, Handler: cmdLMove,
			Since: "6.2.0", Summary: "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", Complexity: "O(1)"}),
		two(&Command{Name: "rpoplpush", Arity: 3, Flags: w | FlagDenyOOM, Handler: cmdRPopLPush,
			Since: "1.2.0", Summary: "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", Complexity: "O(1)"}),
		{Name: "lmpop", KeySpecs: []string{"RW access delete"}, Arity: -4, Flags: w, Keys: lmpopKeys(1), Handler: cmdLMPop, Group: "list",
			Since: "7.0.0", Summary: "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", Complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned."},
		{Name: "blpop", KeySpecs: []string{"RW access delete"}, Arity: -3, Flags: w | FlagNoScript | FlagBlocking, First: 1, Last: -2, Step: 1, Handler: cmdBLPop, Group: "list",
			Since: "2.0.0", Summary: "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", Complexity: "O(N) where N is the number of provided keys."},
		{Name: "brpop", KeySpecs: []string{"RW access delete"}, Arity: -3, Flags: w | FlagNoScript | FlagBlocking, First: 1, Last: -2, Step: 1, Handler: cmdBRPop, Group: "list",
			Since: "2.0.0", Summary: "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", Complexity: "O(N) where N is the number of provided keys."},
		two(&Command{Name: "blmove", Arity: 6, Flags: w | FlagDenyOOM | FlagNoScript | FlagBlocking, Handler: cmdBLMove,
			Since: "6.2.0", Summary: "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", Complexity: "O(1)"}),
		two(&Command{Name: "brpoplpush", Arity: 4, Flags: w | FlagDenyOOM | FlagNoScript | FlagBlocking, Handler: cmdBRPopLPush,
			Since: "2.2.0", Summary: "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", Complexity: "O(1)"}),
		{Name: "blmpop", KeySpecs: []string{"RW access delete"}, Arity: -5, Flags: w | FlagBlocking, Keys: lmpopKeys(2), Handler: cmdBLMPop, Group: "list",
			Since: "7.0.0", Summary: "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", Complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned."},
	}
}

// lmpopKeys gives the key positions of LMPOP (numkeys at 1) and BLMPOP
// (numkeys at 2); nil when numkeys is not a count of the keys that
// follow (the handler replies the error; COMMAND GETKEYS answers that the
// arguments are invalid).
func lmpopKeys(numkeysAt int) func(args [][]byte) []int {
	return func(args [][]byte) []int {
		if numkeysAt >= len(args) {
			return nil
		}
		n, ok := ParseInt(args[numkeysAt])
		if !ok || n <= 0 || n > int64(len(args)-numkeysAt-1) {
			return nil // the handler replies the error; COMMAND GETKEYS too
		}
		pos := make([]int, n)
		for i := range pos {
			pos[i] = numkeysAt + 1 + i
		}
		return pos
	}
}

// listEnd is a side of a list: LEFT (head) or RIGHT (tail).
type listEnd bool

const (
	listLeft  listEnd = false
	listRight listEnd = true
)

func (e listEnd) popEvent() string {
	if e == listRight {
		return "rpop"
	}
	return "lpop"
}

func (e listEnd) pushEvent() string {
	if e == listRight {
		return "rpush"
	}
	return "lpush"
}

// parseListEnd parses LEFT or RIGHT, replying a syntax error otherwise.
func (c *Client) parseListEnd(arg []byte) (listEnd, bool) {
	switch {
	case EqualFold(arg, "left"):
		return listLeft, true
	case EqualFold(arg, "right"):
		return listRight, true
	}
	c.ReplyError(ErrSyntax)
	return false, false
}

// newList makes an empty list with the configured node size.
func (c *Client) newList() *list.List {
	return list.New(int(c.srv.lists().fill.Load()))
}

// lookupList reads key as a list: (nil, true) when missing, (nil, false)
// after replying WRONGTYPE.
func (c *Client) lookupList(key []byte, write bool) (*store.Entry, *list.List, bool) {
	e, ok := c.LookupKind(key, store.KindList, write)
	if !ok || e == nil {
		return nil, nil, ok
	}
	return e, e.Obj.(*list.List), true
}

// longArg parses a signed integer argument (getLongFromObjectOrReply).
func (c *Client) longArg(b []byte) (int64, bool) { return c.IntArg(b) }

// positiveArg parses an integer >= 0 (getPositiveLongFromObjectOrReply):
// msg is the error for a negative or malformed value ("" for Redis's
// default).
func (c *Client) positiveArg(b []byte, msg string) (int64, bool) {
	n, ok := ParseInt(b)
	if !ok || n < 0 {
		if msg == "" {
			msg = "ERR value is out of range, must be positive"
		}
		c.ReplyError(msg)
		return 0, false
	}
	return n, true
}

// listRemoved does what Redis's listElementsRemoved does after a pop:
// the pop event, and the key's deletion (with "del") when it emptied.
func (c *Client) listRemoved(e *store.Entry, l *list.List, key []byte, end listEnd) {
	c.Notify(store.ClassList, end.popEvent(), key)
	if l.Len() == 0 {
		c.DB().Unlink(e)
		c.Notify(store.ClassGeneric, "del", key)
	} else {
		c.DB().Updated(e)
	}
}

// pushList pushes vals on key (creating the list unless xx) and replies
// the new length.
func pushList(c *Client, args [][]byte, end listEnd, xx bool) {
	key := args[1]
	e, l, ok := c.lookupList(key, true)
	if !ok {
		return
	}
	if e == nil && xx {
		c.ReplyInt(0)
		return
	}
	created := e == nil
	if created {
		l = c.newList()
	}
	for _, v := range args[2:] {
		if end == listLeft {
			l.PushFront(v)
		} else {
			l.PushBack(v)
		}
	}
	if created {
		c.DB().SetObject(key, l, c.Now(), false)
	} else {
		c.DB().Updated(e)
	}
	c.ReplyInt(int64(l.Len()))
	c.Notify(store.ClassList, end.pushEvent(), key)
	c.SignalReady(key)
}

func cmdLPush(c *Client, args [][]byte)  { pushList(c, args, listLeft, false) }
func cmdRPush(c *Client, args [][]byte)  { pushList(c, args, listRight, false) }
func cmdLPushX(c *Client, args [][]byte) { pushList(c, args, listLeft, true) }
func cmdRPushX(c *Client, args [][]byte) { pushList(c, args, listRight, true) }

func cmdLInsert(c *Client, args [][]byte) {
	var after bool
	switch {
	case EqualFold(args[2], "after"):
		after = true
	case EqualFold(args[2], "before"):
	default:
		c.ReplyError(ErrSyntax)
		return
	}
	e, l, ok := c.lookupList(args[1], true)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyInt(0)
		return
	}
	pos := -1
	it := l.Iter(0, false)
	for i := 0; ; i++ {
		v, more := it.Next()
		if !more {
			break
		}
		if bytes.Equal(v, args[3]) {
			pos = i
			break
		}
	}
	if pos < 0 {
		c.ReplyInt(-1)
		return
	}
	if after {
		pos++
	}
	l.Insert(pos, args[4])
	c.DB().Updated(e)
	c.Notify(store.ClassList, "linsert", args[1])
	c.ReplyInt(int64(l.Len()))
}

func cmdLLen(c *Client, args [][]byte) {
	e, l, ok := c.lookupList(args[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyInt(0)
		return
	}
	c.ReplyInt(int64(l.Len()))
}

func cmdLIndex(c *Client, args [][]byte) {
	e, l, ok := c.lookupList(args[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyNull()
		return
	}
	i, ok := c.longArg(args[2])
	if !ok {
		return
	}
	if v, found := l.Index(int(i)); found {
		c.ReplyBulk(v)
		return
	}
	c.ReplyNull()
}

func cmdLSet(c *Client, args [][]byte) {
	e, l, ok := c.lookupList(args[1], true)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyError(ErrNoSuchKey)
		return
	}
	i, ok := c.longArg(args[2])
	if !ok {
		return
	}
	if !l.Set(int(i), args[3]) {
		c.ReplyError(ErrOutOfRange)
		return
	}
	c.DB().Updated(e)
	c.ReplyOK()
	c.Notify(store.ClassList, "lset", args[1])
}

func cmdLPop(c *Client, args [][]byte) { popList(c, args, listLeft) }
func cmdRPop(c *Client, args [][]byte) { popList(c, args, listRight) }

func popList(c *Client, args [][]byte, end listEnd) {
	if len(args) > 3 {
		c.ReplyWrongArity()
		return
	}
	hasCount := len(args) == 3
	var count int64
	if hasCount {
		var ok bool
		if count, ok = c.positiveArg(args[2], ""); !ok {
			return
		}
	}
	e, l, ok := c.lookupList(args[1], true)
	if !ok {
		return
	}
	if e == nil {
		if hasCount {
			c.ReplyNullArray()
		} else {
			c.ReplyNull()
		}
		return
	}
	if hasCount && count == 0 {
		c.ReplyArray(0)
		return
	}
	if !hasCount {
		v, _ := popEnd(l, end)
		c.ReplyBulk(v)
	} else {
		n := int(min(count, int64(l.Len())))
		c.ReplyArray(n)
		for range n {
			v, _ := popEnd(l, end)
			c.ReplyBulk(v)
		}
	}
	c.listRemoved(e, l, args[1], end)
}

func popEnd(l *list.List, end listEnd) ([]byte, bool) {
	if end == listLeft {
		return l.PopFront()
	}
	return l.PopBack()
}

func pushEnd(l *list.List, end listEnd, v []byte) {
	if end == listLeft {
		l.PushFront(v)
	} else {
		l.PushBack(v)
	}
}

// replyPopRange pops up to count elements from end and replies
// [key, [elements]] (LMPOP and BLMPOP), then does the bookkeeping.
func (c *Client) replyPopRange(e *store.Entry, l *list.List, key []byte, end listEnd, count int64) {
	n := int(min(count, int64(l.Len())))
	c.ReplyArray(2)
	c.ReplyBulk(key)
	c.ReplyArray(n)
	for range n {
		v, _ := popEnd(l, end)
		c.ReplyBulk(v)
	}
	c.listRemoved(e, l, key, end)
}

func cmdLRange(c *Client, args [][]byte) {
	start, ok := c.longArg(args[2])
	if !ok {
		return
	}
	stop, ok := c.longArg(args[3])
	if !ok {
		return
	}
	e, l, ok := c.lookupList(args[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyArray(0)
		return
	}
	from, n := listRange(int64(l.Len()), start, stop)
	c.ReplyArray(n)
	it := l.Iter(from, false)
	for range n {
		v, _ := it.Next()
		c.ReplyBulk(v)
	}
}

// listRange turns LRANGE-style inclusive indexes into a start and a
// count over a list of length llen.
func listRange(llen, start, stop int64) (int, int) {
	if start < 0 {
		start += llen
	}
	if stop < 0 {
		stop += llen
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= llen {
		return 0, 0
	}
	if stop >= llen {
		stop = llen - 1
	}
	return int(start), int(stop - start + 1)
}

func cmdLTrim(c *Client, args [][]byte) {
	start, ok := c.longArg(args[2])
	if !ok {
		return
	}
	stop, ok := c.longArg(args[3])
	if !ok {
		return
	}
	e, l, ok := c.lookupList(args[1], true)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyOK()
		return
	}
	llen := l.Len()
	from, n := listRange(int64(llen), start, stop)
	if n == 0 {
		l.DeleteRange(0, llen)
	} else {
		l.DeleteRange(from+n, llen-from-n)
		l.DeleteRange(0, from)
	}
	c.Notify(store.ClassList, "ltrim", args[1])
	if l.Len() == 0 {
		c.DB().Unlink(e)
		c.Notify(store.ClassGeneric, "del", args[1])
	} else {
		c.DB().Updated(e)
	}
	c.ReplyOK()
}

// lposOptions are LPOS's parsed options.
type lposOptions struct {
	rank, count, maxlen int64 // count -1: not given
}

// parseLPos parses LPOS's options (args[3:]) as Redis does, replying the
// error when they are invalid.
func (c *Client) parseLPos(args [][]byte) (lposOptions, bool) {
	o := lposOptions{rank: 1, count: -1}
	for j := 3; j < len(args); j++ {
		more := j+1 < len(args)
		switch {
		case EqualFold(args[j], "rank") && more:
			j++
			r, ok := c.longArg(args[j])
			if !ok {
				return o, false
			}
			if r == 0 {
				c.ReplyError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return o, false
			}
			o.rank = r
		case EqualFold(args[j], "count") && more:
			j++
			n, ok := c.positiveArg(args[j], "ERR COUNT can't be negative")
			if !ok {
				return o, false
			}
			o.count = n
		case EqualFold(args[j], "maxlen") && more:
			j++
			n, ok := c.positiveArg(args[j], "ERR MAXLEN can't be negative")
			if !ok {
				return o, false
			}
			o.maxlen = n
		default:
			c.ReplyError(ErrSyntax)
			return o, false
		}
	}
	return o, true
}

func cmdLPos(c *Client, args [][]byte) {
	o, ok := c.parseLPos(args)
	if !ok {
		return
	}
	reverse := o.rank < 0
	rank := o.rank
	if reverse {
		// Redis negates the rank in C: LLONG_MIN stays negative, so
		// every match qualifies, as with rank 1.
		rank = max(-rank, 1)
	}
	e, l, ok := c.lookupList(args[1], false)
	if !ok {
		return
	}
	if e == nil {
		if o.count != -1 {
			c.ReplyArray(0)
		} else {
			c.ReplyNull()
		}
		return
	}
	llen := int64(l.Len())
	start := 0
	if reverse {
		start = -1
	}
	it := l.Iter(start, reverse)
	var matches int64
	body := c.Scratch()
	found := int64(0)
	match := int64(-1)
	for index := int64(0); o.maxlen == 0 || index < o.maxlen; index++ {
		v, more := it.Next()
		if !more {
			break
		}
		if !bytes.Equal(v, args[2]) {
			continue
		}
		matches++
		if matches < rank {
			continue
		}
		match = index
		if reverse {
			match = llen - index - 1
		}
		if o.count == -1 {
			break
		}
		found++
		body = resp.AppendInt(body, match)
		if o.count != 0 && found >= o.count {
			break
		}
	}
	if o.count != -1 {
		c.ReplyArray(int(found))
		c.ReplyRaw(body)
		c.SetScratch(body)
		return
	}
	c.SetScratch(body)
	if matches >= rank && match >= 0 {
		c.ReplyInt(match)
		return
	}
	c.ReplyNull()
}

func cmdLRem(c *Client, args [][]byte) {
	count, ok := c.longArg(args[2])
	if !ok {
		return
	}
	e, l, ok := c.lookupList(args[1], true)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyInt(0)
		return
	}
	removed := l.RemoveMatches(args[3], int(count))
	if removed > 0 {
		c.Notify(store.ClassList, "lrem", args[1])
	}
	if l.Len() == 0 {
		c.DB().Unlink(e)
		c.Notify(store.ClassGeneric, "del", args[1])
	} else if removed > 0 {
		c.DB().Updated(e)
	}
	c.ReplyInt(int64(removed))
}

func cmdLMove(c *Client, args [][]byte) {
	from, ok := c.parseListEnd(args[3])
	if !ok {
		return
	}
	to, ok := c.parseListEnd(args[4])
	if !ok {
		return
	}
	lmove(c, args[1], args[2], from, to)
}

func cmdRPopLPush(c *Client, args [][]byte) { lmove(c, args[1], args[2], listRight, listLeft) }

// lmove pops from src and pushes on dst, replying the element or a null
// when src is missing; it reports whether it moved one.
func lmove(c *Client, src, dst []byte, from, to listEnd) bool {
	se, sl, ok := c.lookupList(src, true)
	if !ok {
		return false
	}
	if se == nil {
		c.ReplyNull()
		return false
	}
	return c.moveElement(se, sl, src, dst, from, to)
}

// moveElement moves one element of the (non-empty) list sl at src to dst,
// replying it; it replies WRONGTYPE (and moves nothing) when dst holds
// another type.
func (c *Client) moveElement(se *store.Entry, sl *list.List, src, dst []byte, from, to listEnd) bool {
	de, dl, ok := c.lookupList(dst, true)
	if !ok {
		return false
	}
	v, _ := popEnd(sl, from)
	v = append(c.Scratch(), v...) // the pop's view dies with the next push
	if de == nil {
		dl = c.newList()
		pushEnd(dl, to, v)
		c.DB().SetObject(dst, dl, c.Now(), false)
	} else {
		pushEnd(dl, to, v) // dl is sl itself when src == dst
		c.DB().Updated(de)
	}
	c.Notify(store.ClassList, to.pushEvent(), dst)
	c.SignalReady(dst)
	c.ReplyBulk(v)
	c.SetScratch(v)
	c.Notify(store.ClassList, from.popEvent(), src)
	if sl.Len() == 0 {
		c.DB().Unlink(se)
		c.Notify(store.ClassGeneric, "del", src)
	} else if !bytes.Equal(src, dst) {
		c.DB().Updated(se)
	}
	return true
}

// lmpopArgs are LMPOP's and BLMPOP's parsed arguments.
type lmpopArgs struct {
	keys  [][]byte
	end   listEnd
	count int64
}

// parseLMPop parses "numkeys key... LEFT|RIGHT [COUNT n]" starting at
// args[at], replying the error as Redis does when it is invalid.
func (c *Client) parseLMPop(args [][]byte, at int) (lmpopArgs, bool) {
	var a lmpopArgs
	n, ok := ParseInt(args[at])
	if !ok || n <= 0 {
		c.ReplyError("ERR numkeys should be greater than 0")
		return a, false
	}
	if n >= int64(len(args)) || int64(at)+n+1 >= int64(len(args)) {
		c.ReplyError(ErrSyntax)
		return a, false
	}
	whereAt := at + int(n) + 1
	if a.end, ok = c.parseListEnd(args[whereAt]); !ok {
		return a, false
	}
	a.keys = args[at+1 : whereAt]
	a.count = -1
	for j := whereAt + 1; j < len(args); j++ {
		if a.count == -1 && EqualFold(args[j], "count") && j+1 < len(args) {
			j++
			cnt, ok := ParseInt(args[j])
			if !ok || cnt <= 0 {
				c.ReplyError("ERR count should be greater than 0")
				return a, false
			}
			a.count = cnt
			continue
		}
		c.ReplyError(ErrSyntax)
		return a, false
	}
	if a.count == -1 {
		a.count = 1
	}
	return a, true
}

func cmdLMPop(c *Client, args [][]byte) {
	a, ok := c.parseLMPop(args, 1)
	if !ok {
		return
	}
	for _, key := range a.keys {
		e, l, ok := c.lookupList(key, true)
		if !ok {
			return
		}
		if e == nil || l.Len() == 0 {
			continue
		}
		c.replyPopRange(e, l, key, a.end, a.count)
		return
	}
	c.ReplyNullArray()
}
