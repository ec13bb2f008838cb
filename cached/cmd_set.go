package cached

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync/atomic"

	"github.com/anvilstack/anvil/cached/collection"
	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/pkg/resp"
)

// The set family: SADD SREM SISMEMBER SMISMEMBER SMEMBERS SCARD SPOP
// SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
// SDIFFSTORE SSCAN. The values are collection.Set.

// setState is the family's server-wide state.
type setState struct {
	maxIntset atomic.Int64 // set-max-intset-entries
}

type setStateKey struct{}

func (s *Server) setState() *setState {
	if st, ok := s.Family(setStateKey{}).(*setState); ok {
		return st
	}
	st := &setState{}
	st.maxIntset.Store(collection.DefaultLimits().SetMaxIntsetEntries)
	s.SetFamily(setStateKey{}, st)
	return st
}

func (st *setState) limits() collection.Limits {
	return collection.Limits{SetMaxIntsetEntries: st.maxIntset.Load()}
}

// setParams are the family's CONFIG parameters.
func (s *Server) setParams() []*Param {
	st := s.setState()
	return []*Param{IntParam("set-max-intset-entries", 0, math.MaxInt64, st.maxIntset.Load, st.maxIntset.Store)}
}

func (s *Server) setCommands() []*Command {
	st := s.setState()
	return []*Command{
		{Name: "sadd", KeySpecs: []string{"RW insert"}, Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Handler: func(c *Client, a [][]byte) { cmdSAdd(c, a, st) },
			Group: "set", Since: "1.0.0", Summary: "Adds one or more members to a set. Creates the key if it doesn't exist.", Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."},
		{Name: "srem", KeySpecs: []string{"RW delete"}, Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Handler: cmdSRem,
			Group: "set", Since: "1.0.0", Summary: "Removes one or more members from a set. Deletes the set if the last member was removed.", Complexity: "O(N) where N is the number of members to be removed."},
		{Name: "sismember", KeySpecs: []string{"RO"}, Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Handler: cmdSIsMember,
			Group: "set", Since: "1.0.0", Summary: "Determines whether a member belongs to a set.", Complexity: "O(1)"},
		{Name: "smismember", KeySpecs: []string{"RO access"}, Arity: -3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Handler: cmdSMIsMember,
			Group: "set", Since: "6.2.0", Summary: "Determines whether multiple members belong to a set.", Complexity: "O(N) where N is the number of elements being checked for membership"},
		{Name: "smembers", KeySpecs: []string{"RO access"}, Arity: 2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Handler: cmdSMembers,
			Group: "set", Since: "1.0.0", Summary: "Returns all members of a set.", Complexity: "O(N) where N is the set cardinality."},
		{Name: "scard", KeySpecs: []string{"RO"}, Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Handler: cmdSCard,
			Group: "set", Since: "1.0.0", Summary: "Returns the number of members in a set.", Complexity: "O(1)"},
		{Name: "spop", KeySpecs: []string{"RW access delete"}, Arity: -2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Handler: cmdSPop,
			Group: "set", Since: "1.0.0", Summary: "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", Complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count."},
		{Name: "srandmember", KeySpecs: []string{"RO access"}, Arity: -2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Handler: cmdSRandMember,
			Group: "set", Since: "1.0.0", Summary: "Get one or multiple random members from a set", Complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count."},
		{Name: "smove", KeySpecs: []string{"RW access delete", "RW insert"}, Arity: 4, Flags: FlagWrite | FlagFast, First: 1, Last: 2, Step: 1, Handler: func(c *Client, a [][]byte) { cmdSMove(c, a, st) },
			Group: "set", Since: "1.0.0", Summary: "Moves a member from one set to another.", Complexity: "O(1)"},
		{Name: "sinter", KeySpecs: []string{"RO access"}, Arity: -2, Flags: FlagReadOnly, First: 1, Last: -1, Step: 1, Handler: func(c *Client, a [][]byte) { sinterGeneric(c, a[1:], nil, false, 0, st) },
			Group: "set", Since: "1.0.0", Summary: "Returns the intersect of multiple sets.", Complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."},
		{Name: "sintercard", KeySpecs: []string{"RO access"}, Arity: -3, Flags: FlagReadOnly, Keys: sintercardKeys, Handler: func(c *Client, a [][]byte) { cmdSInterCard(c, a, st) },
			Group: "set", Since: "7.0.0", Summary: "Returns the number of members of the intersect of multiple sets.", Complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."},
		{Name: "sinterstore", KeySpecs: []string{"RW update", "RO access"}, Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 1, Handler: func(c *Client, a [][]byte) { sinterGeneric(c, a[2:], a[1], false, 0, st) },
			Group: "set", Since: "1.0.0", Summary: "Stores the intersect of multiple sets in a key.", Complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."},
		{Name: "sunion", KeySpecs: []string{"RO access"}, Arity: -2, Flags: FlagReadOnly, First: 1, Last: -1, Step: 1, Handler: func(c *Client, a [][]byte) { sunionDiffGeneric(c, a[1:], nil, false, st) },
			Group: "set", Since: "1.0.0", Summary: "Returns the union of multiple sets.", Complexity: "O(N) where N is the total number of elements in all given sets."},
		{Name: "sunionstore", KeySpecs: []string{"OW update", "RO access"}, Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 1, Handler: func(c *Client, a [][]byte) { sunionDiffGeneric(c, a[2:], a[1], false, st) },
			Group: "set", Since: "1.0.0", Summary: "Stores the union of multiple sets in a key.", Complexity: "O(N) where N is the total number of elements in all given sets."},
		{Name: "sdiff", KeySpecs: []string{"RO access"}, Arity: -2, Flags: FlagReadOnly, First: 1, Last: -1, Step: 1, Handler: func(c *Client, a [][]byte) { sunionDiffGeneric(c, a[1:], nil, true, st) },
			Group: "set", Since: "1.0.0", Summary: "Returns the difference of multiple sets.", Complexity: "O(N) where N is the total number of elements in all given sets."},
		{Name: "sdiffstore", KeySpecs: []string{"OW update", "RO access"}, Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 1, Handler: func(c *Client, a [][]byte) { sunionDiffGeneric(c, a[2:], a[1], true, st) },
			Group: "set", Since: "1.0.0", Summary: "Stores the difference of multiple sets in a key.", Complexity: "O(N) where N is the total number of elements in all given sets."},
		{Name: "sscan", KeySpecs: []string{"RO access"}, Arity: -3, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Handler: cmdSScan,
			Group: "set", Since: "2.8.0", Summary: "Iterates over members of a set.", Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."},
	}
}

// setLookup finds key as a set: (nil, nil, true) when it is missing,
// (nil, nil, false) after replying WRONGTYPE.
func setLookup(c *Client, key []byte, write bool) (*store.Entry, *collection.Set, bool) {
	e, ok := c.LookupKind(key, store.KindSet, write)
	if !ok || e == nil {
		return nil, nil, ok
	}
	return e, e.Obj.(*collection.Set), true
}

// replyMember writes the i-th member of s.
func replyMember(c *Client, s *collection.Set, i int) {
	if s.IsIntset() {
		c.ReplyBulkInt(s.Int(i))
	} else {
		c.ReplyBulkString(s.Member(i))
	}
}

// replyMembers writes every member of s (nil: none) as a set.
func replyMembers(c *Client, s *collection.Set) {
	if s == nil {
		c.ReplySet(0)
		return
	}
	c.ReplySet(s.Len())
	for i := range s.Len() {
		replyMember(c, s, i)
	}
}

func cmdSAdd(c *Client, args [][]byte, st *setState) {
	e, s, ok := setLookup(c, args[1], true)
	if !ok {
		return
	}
	if s == nil {
		s = collection.NewSetFor(args[2])
	}
	lim := st.limits()
	added := int64(0)
	for _, m := range args[2:] {
		if s.Add(m, &lim) {
			added++
		}
	}
	if added > 0 {
		if e == nil {
			c.db.SetObject(args[1], s, c.now, false)
		} else {
			c.db.Updated(e)
		}
		c.Notify(store.ClassSet, "sadd", args[1])
	} else {
		c.Unchanged()
	}
	c.ReplyInt(added)
}

func cmdSRem(c *Client, args [][]byte) {
	e, s, ok := setLookup(c, args[1], true)
	if !ok {
		return
	}
	if s == nil {
		c.Unchanged()
		c.ReplyInt(0)
		return
	}
	c.ReplyInt(removeMembers(c, e, args, s.Remove, s.Len, store.ClassSet, "srem"))
}

func cmdSMove(c *Client, args [][]byte, st *setState) {
	srcKey, dstKey, m := args[1], args[2], args[3]
	srcE := c.LookupWrite(srcKey)
	dstE := c.LookupWrite(dstKey)
	if srcE == nil {
		c.Unchanged()
		c.ReplyInt(0)
		return
	}
	if srcE.Kind() != store.KindSet || (dstE != nil && dstE.Kind() != store.KindSet) {
		c.ReplyError(ErrWrongType)
		return
	}
	src := srcE.Obj.(*collection.Set)
	if srcE == dstE {
		c.Unchanged()
		if src.Has(m) {
			c.ReplyInt(1)
		} else {
			c.ReplyInt(0)
		}
		return
	}
	if !src.Remove(m) {
		c.Unchanged()
		c.ReplyInt(0)
		return
	}
	c.Notify(store.ClassSet, "srem", srcKey)
	if src.Len() == 0 {
		c.db.Unlink(srcE)
		c.Notify(store.ClassGeneric, "del", srcKey)
	} else {
		c.db.Updated(srcE)
	}
	lim := st.limits()
	if dstE == nil {
		dst := collection.NewSetFor(m)
		dst.Add(m, &lim)
		c.db.SetObject(dstKey, dst, c.now, false)
		c.Notify(store.ClassSet, "sadd", dstKey)
	} else if dstE.Obj.(*collection.Set).Add(m, &lim) {
		// Only a real addition changes the destination (WATCH, tracking).
		c.db.Updated(dstE)
		c.Notify(store.ClassSet, "sadd", dstKey)
	}
	c.ReplyInt(1)
}

func cmdSIsMember(c *Client, args [][]byte) {
	_, s, ok := setLookup(c, args[1], false)
	if !ok {
		return
	}
	if s != nil && s.Has(args[2]) {
		c.ReplyInt(1)
	} else {
		c.ReplyInt(0)
	}
}

func cmdSMIsMember(c *Client, args [][]byte) {
	_, s, ok := setLookup(c, args[1], false)
	if !ok {
		return
	}
	c.ReplyArray(len(args) - 2)
	for _, m := range args[2:] {
		if s != nil && s.Has(m) {
			c.ReplyInt(1)
		} else {
			c.ReplyInt(0)
		}
	}
}

func cmdSMembers(c *Client, args [][]byte) {
	_, s, ok := setLookup(c, args[1], false)
	if !ok {
		return
	}
	replyMembers(c, s)
}

func cmdSCard(c *Client, args [][]byte) {
	_, s, ok := setLookup(c, args[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.ReplyInt(0)
		return
	}
	c.ReplyInt(int64(s.Len()))
}

// setPopped records that members were popped from e's set: it deletes
// an emptied set (with the "del" event) or re-accounts the rest.
func setPopped(c *Client, e *store.Entry, s *collection.Set, key []byte) {
	if s.Len() == 0 {
		c.db.Unlink(e)
		c.Notify(store.ClassGeneric, "del", key)
	} else {
		c.db.Updated(e)
	}
}

func cmdSPop(c *Client, args [][]byte) {
	if len(args) == 3 {
		spopCount(c, args)
		return
	} else if len(args) > 3 {
		c.ReplyError(ErrSyntax)
		return
	}
	e, s, ok := setLookup(c, args[1], true)
	if !ok {
		return
	}
	if s == nil {
		c.Unchanged()
		c.ReplyNull()
		return
	}
	i := rand.IntN(s.Len())
	replyMember(c, s, i)
	s.RemoveAt(i)
	c.Notify(store.ClassSet, "spop", args[1])
	setPopped(c, e, s, args[1])
}

func spopCount(c *Client, args [][]byte) {
	n, ok := ParseInt(args[2])
	if !ok || n < 0 {
		c.ReplyError("ERR value is out of range, must be positive")
		return
	}
	e, s, ok := setLookup(c, args[1], true)
	if !ok {
		return
	}
	if s == nil || n == 0 {
		c.Unchanged()
		c.ReplySet(0)
		return
	}
	size := s.Len()
	c.Notify(store.ClassSet, "spop", args[1])
	if n >= int64(size) {
		replyMembers(c, s)
		c.db.Unlink(e)
		c.Notify(store.ClassGeneric, "del", args[1])
		return
	}
	pos := collection.SamplePositions(size, int(n))
	c.ReplySet(len(pos))
	for _, i := range pos {
		replyMember(c, s, i)
	}
	s.RemovePositions(pos)
	setPopped(c, e, s, args[1])
}

func cmdSRandMember(c *Client, args [][]byte) {
	if len(args) > 3 {
		c.ReplyError(ErrSyntax)
		return
	}
	if len(args) == 2 {
		_, s, ok := setLookup(c, args[1], false)
		if !ok {
			return
		}
		if s == nil {
			c.ReplyNull()
			return
		}
		replyMember(c, s, rand.IntN(s.Len()))
		return
	}
	count, ok := randomCountArg(c, args[2])
	if !ok {
		return
	}
	_, s, ok := setLookup(c, args[1], false)
	if !ok {
		return
	}
	if s == nil || count == 0 {
		c.ReplyArray(0)
		return
	}
	if !checkRandomCount(c, count) {
		return
	}
	size := s.Len()
	switch {
	case count < 0 || count == 1:
		n := int(min(-count, int64(math.MaxInt)))
		if count == 1 {
			n = 1
		}
		c.ReplyArray(n)
		for range n {
			replyMember(c, s, rand.IntN(size))
		}
	case count >= int64(size):
		c.ReplyArray(size)
		for i := range size {
			replyMember(c, s, i)
		}
	default:
		pos := collection.SamplePositions(size, int(count))
		c.ReplyArray(len(pos))
		for _, i := range pos {
			replyMember(c, s, i)
		}
	}
}

// setsLookup reads keys as sets, nil for a missing key; false after
// replying WRONGTYPE for the first key of another type.
func setsLookup(c *Client, keys [][]byte) ([]*collection.Set, bool) {
	sets := make([]*collection.Set, len(keys))
	for i, k := range keys {
		_, s, ok := setLookup(c, k, false)
		if !ok {
			return nil, false
		}
		sets[i] = s
	}
	return sets, true
}

// setStore stores a computed set in dst (replacing any value and its
// TTL), or deletes dst when the set is empty, and replies its size.
func setStore(c *Client, dst []byte, s *collection.Set, event string) {
	if s != nil && s.Len() > 0 {
		c.db.SetObject(dst, s, c.now, false)
		c.ReplyInt(int64(s.Len()))
		c.Notify(store.ClassSet, event, dst)
		return
	}
	c.ReplyInt(0)
	if c.db.Delete(dst, c.now) {
		c.Notify(store.ClassGeneric, "del", dst)
	} else {
		c.Unchanged()
	}
}

// sintercardKeys are SINTERCARD's key positions, nil when numkeys is
// malformed (the handler replies the error).
func sintercardKeys(args [][]byte) []int {
	if len(args) < 3 {
		return nil
	}
	n, ok := ParseInt(args[1])
	if !ok || n < 1 || n > int64(len(args)-2) {
		return nil
	}
	pos := make([]int, n)
	for i := range pos {
		pos[i] = 2 + i
	}
	return pos
}

func cmdSInterCard(c *Client, args [][]byte, st *setState) {
	numkeys, ok := ParseInt(args[1])
	if !ok || numkeys < 1 {
		c.ReplyError("ERR numkeys should be greater than 0")
		return
	}
	if numkeys > int64(len(args)-2) {
		c.ReplyError("ERR Number of keys can't be greater than number of args")
		return
	}
	var limit int64
	for j := 2 + int(numkeys); j < len(args); j++ {
		if EqualFold(args[j], "limit") && j+1 < len(args) {
			j++
			if limit, ok = ParseInt(args[j]); !ok || limit < 0 {
				c.ReplyError("ERR LIMIT can't be negative")
				return
			}
		} else {
			c.ReplyError(ErrSyntax)
			return
		}
	}
	sinterGeneric(c, args[2:2+numkeys], nil, true, limit, st)
}

// sinterGeneric is SINTER, SINTERSTORE (dst set) and SINTERCARD
// (cardOnly, stopping at limit when it is not 0).
func sinterGeneric(c *Client, keys [][]byte, dst []byte, cardOnly bool, limit int64, st *setState) {
	sets, ok := setsLookup(c, keys)
	if !ok {
		return
	}
	for _, s := range sets {
		if s == nil { // an empty set: the intersection is empty
			switch {
			case dst != nil:
				setStore(c, dst, nil, "")
			case cardOnly:
				c.ReplyInt(0)
			default:
				c.ReplySet(0)
			}
			return
		}
	}
	// From the smallest set, test each member against the others.
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].Len() < sets[j].Len() })
	first := sets[0]
	var result *collection.Set
	lim := st.limits()
	if dst != nil {
		result = collection.NewIntSet()
	}
	body := c.Scratch()
	card := int64(0)
members:
	for i := range first.Len() {
		var iv int64
		var m []byte
		isInt := first.IsIntset()
		if isInt {
			iv = first.Int(i)
		} else {
			m = first.MemberBytes(i)
		}
		for _, o := range sets[1:] {
			if o != first && (isInt && !o.HasInt(iv) || !isInt && !o.Has(m)) {
				continue members
			}
		}
		card++
		switch {
		case cardOnly:
			if limit > 0 && card >= limit {
				break members
			}
		case dst != nil && isInt:
			result.AddInt(iv, &lim)
		case dst != nil:
			result.Add(m, &lim)
		case isInt:
			body = resp.AppendBulkInt(body, iv)
		default:
			body = resp.AppendBulk(body, m)
		}
	}
	switch {
	case cardOnly:
		c.ReplyInt(card)
	case dst != nil:
		setStore(c, dst, result, "sinterstore")
	default:
		c.ReplySet(int(card))
		c.ReplyRaw(body)
	}
	c.SetScratch(body)
}

// sunionDiffGeneric is SUNION, SDIFF and their STORE variants (dst set).
func sunionDiffGeneric(c *Client, keys [][]byte, dst []byte, diff bool, st *setState) {
	sets, ok := setsLookup(c, keys)
	if !ok {
		return
	}
	lim := st.limits()
	result := collection.NewIntSet()
	add := func(s *collection.Set, i int) {
		if s.IsIntset() {
			result.AddInt(s.Int(i), &lim)
		} else {
			result.Add(s.MemberBytes(i), &lim)
		}
	}
	if !diff {
		for _, s := range sets {
			if s == nil {
				continue
			}
			for i := range s.Len() {
				add(s, i)
			}
		}
	} else if first := sets[0]; first != nil {
		others := make([]*collection.Set, 0, len(sets)-1)
		same := false
		for _, o := range sets[1:] {
			if o == first {
				same = true // the difference with itself is empty
			}
			if o != nil {
				others = append(others, o)
			}
		}
		for i := 0; !same && i < first.Len(); i++ {
			in := false
			for _, o := range others {
				if first.IsIntset() && o.HasInt(first.Int(i)) || !first.IsIntset() && o.Has(first.MemberBytes(i)) {
					in = true
					break
				}
			}
			if !in {
				add(first, i)
			}
		}
	}
	if dst != nil {
		event := "sunionstore"
		if diff {
			event = "sdiffstore"
		}
		setStore(c, dst, result, event)
		return
	}
	replyMembers(c, result)
}

func cmdSScan(c *Client, args [][]byte) {
	e, cursor, opt, ok := scanStart(c, args, store.KindSet)
	if !ok {
		return
	}
	s := e.Obj.(*collection.Set)
	body := c.Scratch()
	n := 0
	next := s.Scan(cursor, opt.Count, func(m []byte) {
		if opt.Match != nil && !GlobMatch(opt.Match, m, false) {
			return
		}
		body = resp.AppendBulk(body, m)
		n++
	})
	replyScan(c, next, n, body)
}
