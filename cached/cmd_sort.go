package cached

import (
	"bytes"
	"math"
	"slices"
	"strconv"

	"github.com/anvilstack/anvil/cached/collection"
	"github.com/anvilstack/anvil/cached/list"
	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/cached/zset"
)

// SORT and SORT_RO over lists, sets and sorted sets, with Redis 7.0's
// options: BY pattern (a pattern without '*' means no sorting), LIMIT,
// GET pattern (# for the element, key->field for a hash field), ASC/DESC,
// ALPHA and STORE.
//
// BY and GET patterns read keys the command line does not name: a SORT
// that uses one locks every shard of the database (cmd.Lock), as Redis
// runs it alone.

func sortCommands() []*Command {
	return []*Command{
		{Name: "sort", Arity: -2, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1,
			Keys: sortKeys, Lock: lockSort, KeySpecs: []string{"RO access", "OW update"},
			Handler: func(c *Client, a [][]byte) { sortGeneric(c, a, false) },
			Group:   "generic", ACL: []string{"@set", "@sortedset", "@list", "@dangerous"}, ACLNoGroup: true, Since: "1.0.0",
			Summary:    "Sort the elements in a list, set or sorted set",
			Complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N)."},
		{Name: "sort_ro", Arity: -2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1,
			Keys: func([][]byte) []int { return []int{1} }, Lock: lockSort, KeySpecs: []string{"RO access"},
			Handler: func(c *Client, a [][]byte) { sortGeneric(c, a, true) },
			Group:   "generic", ACL: []string{"@set", "@sortedset", "@list", "@dangerous"}, ACLNoGroup: true, Since: "7.0.0",
			Summary:    "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
			Complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N)."},
	}
}

// sortKeys is Redis's sortGetKeys: the sorted key and the STORE key
// (the last one given). Keys read through BY and GET patterns are not
// reported, as in Redis; KeySpecs give the flags of those two.
func sortKeys(args [][]byte) []int {
	keys := []int{1}
	store := 0
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case cEqualFold(a, "limit"):
			i += 2
		case cEqualFold(a, "get"), cEqualFold(a, "by"):
			i++
		case cEqualFold(a, "store") && i+1 < len(args):
			store = i + 1
			i++
		}
	}
	if store > 0 {
		keys = append(keys, store)
	}
	return keys
}

// sortPatternReads reports whether a BY or GET pattern reads other keys.
func sortPatternReads(p []byte) bool {
	p = cstr(p)
	return bytes.IndexByte(p, '*') >= 0 && !(len(p) == 1 && p[0] == '#')
}

// lockSort locks the database when a pattern reads keys, else the sorted
// key and the STORE key.
func lockSort(c *Client, args [][]byte, ls *store.LockSet) {
	for i := 2; i < len(args)-1; i++ {
		if (cEqualFold(args[i], "by") || cEqualFold(args[i], "get")) && sortPatternReads(args[i+1]) {
			ls.AddDB(c.db)
			return
		}
	}
	for _, i := range sortKeys(args) {
		ls.Add(c.db, args[i])
	}
}

// sortItem is one element being sorted.
type sortItem struct {
	obj   []byte
	score float64
	key   []byte // ALPHA: what is compared (the element or the BY value, up to a NUL unless storing)
	has   bool   // ALPHA with BY: the BY value exists
}

// sortLookup is Redis's lookupKeyByPattern: the value the pattern names
// for subst (a string key, or a hash field with "->field"), nil when
// there is none. "#" is subst itself.
func (c *Client) sortLookup(pattern, subst []byte) ([]byte, bool) {
	cp := cstr(pattern)
	if len(cp) == 1 && cp[0] == '#' {
		return subst, true
	}
	star := bytes.IndexByte(cp, '*')
	if star < 0 {
		return nil, false
	}
	var field []byte
	if f := bytes.Index(cp[star+1:], []byte("->")); f >= 0 {
		f += star + 1
		if f+2 < len(cp) {
			field = pattern[f+2:]
		}
	}
	postEnd := len(pattern)
	if field != nil {
		postEnd -= len(field) + 2
	}
	key := make([]byte, 0, star+len(subst)+postEnd-star)
	key = append(key, pattern[:star]...)
	key = append(key, subst...)
	key = append(key, pattern[star+1:postEnd]...)
	e := c.Lookup(key)
	if e == nil {
		return nil, false
	}
	if field != nil {
		h, ok := e.Obj.(*collection.Hash)
		if !ok {
			return nil, false
		}
		return h.Get(field)
	}
	if e.Obj != nil {
		return nil, false
	}
	return e.Str, true
}

func sortGeneric(c *Client, args [][]byte, readonly bool) {
	var (
		desc, alpha, dontsort bool
		limitStart            int64
		limitCount            int64 = -1
		sortby, storekey      []byte
		gets                  [][]byte
	)
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		switch a := args[j]; {
		case cEqualFold(a, "asc"):
			desc = false
		case cEqualFold(a, "desc"):
			desc = true
		case cEqualFold(a, "alpha"):
			alpha = true
		case cEqualFold(a, "limit") && left >= 2:
			var ok bool
			if limitStart, ok = c.IntArg(args[j+1]); !ok {
				return
			}
			if limitCount, ok = c.IntArg(args[j+2]); !ok {
				return
			}
			j += 2
		case !readonly && cEqualFold(a, "store") && left >= 1:
			storekey = args[j+1]
			j++
		case cEqualFold(a, "by") && left >= 1:
			sortby = args[j+1]
			dontsort = bytes.IndexByte(cstr(sortby), '*') < 0
			j++
		case cEqualFold(a, "get") && left >= 1:
			gets = append(gets, args[j+1])
			j++
		default:
			c.ReplyError(ErrSyntax)
			return
		}
	}

	e := c.Lookup(args[1])
	kind := store.KindList
	if e != nil {
		kind = e.Kind()
		if kind != store.KindList && kind != store.KindSet && kind != store.KindZSet {
			c.ReplyError(ErrWrongType)
			return
		}
	}
	// A set has no order of its own: sorted when stored, for a result
	// that does not depend on the encoding.
	if dontsort && kind == store.KindSet && storekey != nil {
		dontsort, alpha, sortby = false, true, nil
	}

	var vlen int64
	if e != nil {
		switch v := e.Obj.(type) {
		case *list.List:
			vlen = int64(v.Len())
		case *collection.Set:
			vlen = int64(v.Len())
		case *zset.ZSet:
			vlen = int64(v.Len())
		}
	}
	start := min(max(limitStart, 0), vlen)
	limitCount = min(max(limitCount, -1), vlen)
	end := vlen - 1
	if limitCount >= 0 {
		end = start + limitCount - 1
	}
	if start >= vlen {
		start, end = vlen-1, vlen-2
	}
	end = min(end, vlen-1)
	ranged := (kind == store.KindZSet || kind == store.KindList) && dontsort
	if ranged && (start != 0 || end != vlen-1) {
		vlen = end - start + 1
	}

	items := make([]sortItem, 0, max(vlen, 0))
	switch v := objOf(e).(type) {
	case nil:
	case *list.List:
		if dontsort {
			if end >= start {
				from := int(start)
				if desc {
					from = v.Len() - int(start) - 1
				}
				it := v.Iter(from, desc)
				for int64(len(items)) < vlen {
					el, ok := it.Next()
					if !ok {
						break
					}
					items = append(items, sortItem{obj: el})
				}
				end -= start
				start = 0
			}
		} else {
			it := v.Iter(0, false)
			for el, ok := it.Next(); ok; el, ok = it.Next() {
				items = append(items, sortItem{obj: el})
			}
		}
	case *collection.Set:
		for i := range v.Len() {
			var m []byte
			if v.IsIntset() {
				m = strconv.AppendInt(nil, v.Int(i), 10)
			} else {
				m = v.MemberBytes(i)
			}
			items = append(items, sortItem{obj: m})
		}
	case *zset.ZSet:
		if dontsort {
			var p zset.Pos
			if desc {
				p = v.ByRank(v.Len() - 1 - int(start))
			} else {
				p = v.ByRank(int(start))
			}
			for n := vlen; n > 0 && p.Valid(); n-- {
				items = append(items, sortItem{obj: []byte(p.Member())})
				if desc {
					p = p.Prev()
				} else {
					p = p.Next()
				}
			}
			end -= start
			start = 0
		} else {
			v.ForEach(func(m string, _ float64) bool {
				items = append(items, sortItem{obj: []byte(m)})
				return true
			})
		}
	}

	convErr := false
	if !dontsort {
		for i := range items {
			it := &items[i]
			by := it.obj
			if sortby != nil {
				var ok bool
				if by, ok = c.sortLookup(sortby, it.obj); !ok {
					continue
				}
			}
			if alpha {
				it.key, it.has = by, true
				if storekey == nil {
					it.key = cstr(by) // strcoll in the C locale: up to a NUL
				}
				continue
			}
			if v, ok := ParseInt(by); ok { // the common case, as strtod reads it
				it.score = float64(v)
				continue
			}
			f, n, erange := zset.Strtod(by)
			if n != len(cstr(by)) || erange || math.IsNaN(f) {
				convErr = true
			}
			it.score = f
		}
		bySet := sortby != nil
		// Sort indexes, not the items: a stable sort moves what it sorts
		// many times.
		order := make([]int32, len(items))
		for i := range order {
			order[i] = int32(i)
		}
		cmp := func(i, j int32) int {
			a, b := &items[i], &items[j]
			var r int
			switch {
			case !alpha:
				switch {
				case a.score > b.score:
					r = 1
				case a.score < b.score:
					r = -1
				default:
					r = bytes.Compare(a.obj, b.obj)
				}
			case bySet && (!a.has || !b.has):
				switch {
				case !a.has && !b.has:
				case !a.has:
					r = -1
				default:
					r = 1
				}
			default:
				r = bytes.Compare(a.key, b.key)
			}
			if desc {
				return -r
			}
			return r
		}
		if alpha {
			// Ties are common (BY keys that are missing): keep the
			// elements' order among equals, as Redis's merge sort does.
			slices.SortStableFunc(order, cmp)
		} else {
			// Numeric order breaks ties by the elements' bytes: total.
			slices.SortFunc(order, cmp)
		}
		sorted := make([]sortItem, len(items))
		for i, k := range order {
			sorted[i] = items[k]
		}
		items = sorted
	}

	n := end - start + 1
	if len(gets) > 0 {
		n *= int64(len(gets))
	}
	switch {
	case convErr:
		c.ReplyError("ERR One or more scores can't be converted into double")
	case storekey == nil:
		c.Unchanged()
		c.ReplyArray(int(n))
		for j := start; j <= end; j++ {
			it := &items[j]
			if len(gets) == 0 {
				c.ReplyBulk(it.obj)
			}
			for _, g := range gets {
				if v, ok := c.sortLookup(g, it.obj); ok {
					c.ReplyBulk(v)
				} else {
					c.ReplyNull()
				}
			}
		}
	default:
		l := c.newList()
		for j := start; j <= end; j++ {
			it := &items[j]
			if len(gets) == 0 {
				l.PushBack(it.obj)
			}
			for _, g := range gets {
				v, _ := c.sortLookup(g, it.obj)
				l.PushBack(v)
			}
		}
		if n > 0 {
			c.db.SetObject(storekey, l, c.now, false)
			c.Notify(store.ClassList, "sortstore", storekey)
		} else if c.db.Delete(storekey, c.now) {
			c.Notify(store.ClassGeneric, "del", storekey)
		} else {
			c.Unchanged()
		}
		c.ReplyInt(n)
	}
}

// objOf is e's value, nil for a missing key.
func objOf(e *store.Entry) store.Object {
	if e == nil {
		return nil
	}
	return e.Obj
}
