package cached

import (
	"math"
	"sync/atomic"
	"unsafe"

	"github.com/anvilstack/anvil/cached/hll"
	"github.com/anvilstack/anvil/cached/store"
)

// The HyperLogLog family: PFADD PFCOUNT PFMERGE, on string values in
// Redis's own representation (package hll).

const (
	errNotHLL     = "WRONGTYPE Key is not a valid HyperLogLog string value."
	errCorruptHLL = "INVALIDOBJ Corrupted HLL object detected"
)

// hllState is the family's server-wide state.
type hllState struct {
	sparseMax atomic.Int64 // hll-sparse-max-bytes
}

type hllStateKey struct{}

func (s *Server) hllState() *hllState {
	if st, ok := s.Family(hllStateKey{}).(*hllState); ok {
		return st
	}
	st := &hllState{}
	st.sparseMax.Store(hll.DefaultSparseMaxBytes)
	s.SetFamily(hllStateKey{}, st)
	return st
}

// hllParams are the family's CONFIG parameters.
func (s *Server) hllParams() []*Param {
	st := s.hllState()
	return []*Param{MemoryParam("hll-sparse-max-bytes", 0, math.MaxInt64, st.sparseMax.Load, st.sparseMax.Store)}
}

func (s *Server) hllCommands() []*Command {
	st := s.hllState()
	cmds := []*Command{
		{Name: "pfadd", Arity: -2, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RW insert"},
			Handler: func(c *Client, a [][]byte) { cmdPFAdd(c, a, st) },
			Group:   "hyperloglog", Since: "2.8.9", Summary: "Adds the specified elements to the specified HyperLogLog.", Complexity: "O(1) to add every element."},
		{Name: "pfcount", Arity: -2, Flags: FlagReadOnly, First: 1, Last: -1, Step: 1, KeySpecs: []string{"RW access"},
			Handler: cmdPFCount,
			Group:   "hyperloglog", Since: "2.8.9", Summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", Complexity: "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys."},
		{Name: "pfmerge", Arity: -2, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 1, KeySpecs: []string{"RW access insert", "RO access"},
			Handler: func(c *Client, a [][]byte) { cmdPFMerge(c, a, st) },
			Group:   "hyperloglog", Since: "2.8.9", Summary: "Merge N different HyperLogLogs into a single one.", Complexity: "O(N) to merge N HyperLogLogs, but with high constant times."},
	}
	return append(cmds, s.hllDebugCommands()...)
}

// hllLookup finds key's HLL value: nil when missing, false after
// replying WRONGTYPE for another type or a string that is not an HLL.
func (c *Client) hllLookup(key []byte, write bool) (*store.Entry, bool) {
	e, ok := c.stringValue(key, write)
	if !ok {
		return nil, false
	}
	if e != nil && !hll.Valid(e.Str) {
		c.ReplyError(errNotHLL)
		return nil, false
	}
	return e, true
}

// hllSetRegister raises a register of e's HLL in place, making room in
// the value's own block first (as Redis's sdsMakeRoomFor) so that the
// sparse update does not reallocate; a promotion to dense replaces the
// value. It returns hll.SetRegister's result.
func (c *Client) hllSetRegister(e *store.Entry, index int, count uint8, sparseMax int) int {
	if !hll.IsDense(e.Str) && cap(e.Str)-len(e.Str) < 5 {
		n := len(e.Str)
		c.db.GrowString(e, 5)
		e.Str = e.Str[:n]
	}
	nb, r := hll.SetRegister(e.Str, index, count, sparseMax)
	c.hllStore(e, nb)
	return r
}

// hllStore makes nb e's value: in place when nb is e's own memory,
// otherwise copied into the entry.
func (c *Client) hllStore(e *store.Entry, nb []byte) {
	if unsafe.SliceData(nb) == unsafe.SliceData(e.Str) {
		e.Str = nb
		return
	}
	c.db.Set([]byte(e.Key()), nb, c.now, store.SetOptions{KeepTTL: true})
}

func cmdPFAdd(c *Client, args [][]byte, st *hllState) {
	key := args[1]
	e, ok := c.hllLookup(key, true)
	if !ok {
		return
	}
	updated := 0
	if e == nil {
		e = c.db.Set(key, hll.New(), c.now, store.SetOptions{})
		updated++
	}
	e.SetRaw()
	sparseMax := int(st.sparseMax.Load())
	for _, ele := range args[2:] {
		index, count := hll.PatLen(ele)
		switch c.hllSetRegister(e, index, count, sparseMax) {
		case 1:
			updated++
		case -1:
			e.SetRaw()
			c.db.Updated(e)
			c.ReplyError(errCorruptHLL)
			return
		}
	}
	e.SetRaw()
	if updated == 0 {
		c.Unchanged()
		c.ReplyInt(0)
		return
	}
	hll.Invalidate(e.Str)
	c.db.Updated(e)
	c.Notify(store.ClassString, "pfadd", key)
	c.ReplyInt(1)
}

func cmdPFCount(c *Client, args [][]byte) {
	if len(args) > 2 {
		var regs [hll.Registers]uint8
		for _, k := range args[1:] {
			e, ok := c.hllLookup(k, false)
			if !ok {
				return
			}
			if e == nil {
				continue
			}
			if hll.Merge(&regs, e.Str) != nil {
				c.ReplyError(errCorruptHLL)
				return
			}
		}
		c.ReplyInt(int64(hll.CountRegisters(&regs)))
		return
	}
	e, ok := c.hllLookup(args[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.ReplyInt(0)
		return
	}
	e.SetRaw()
	card, valid := hll.CachedCard(e.Str)
	if !valid {
		var err error
		if card, err = hll.Count(e.Str); err != nil {
			c.ReplyError(errCorruptHLL)
			return
		}
		// Redis caches the cardinality in the value even though PFCOUNT
		// reads: a change of the key for WATCH and tracking.
		hll.SetCachedCard(e.Str, card)
		c.db.Updated(e)
	}
	c.ReplyInt(int64(card))
}

func cmdPFMerge(c *Client, args [][]byte, st *hllState) {
	var regs [hll.Registers]uint8
	useDense := false
	for _, k := range args[1:] {
		e, ok := c.hllLookup(k, false)
		if !ok {
			return
		}
		if e == nil {
			continue
		}
		if hll.IsDense(e.Str) {
			useDense = true
		}
		if hll.Merge(&regs, e.Str) != nil {
			c.ReplyError(errCorruptHLL)
			return
		}
	}
	key := args[1]
	e := c.LookupWrite(key)
	if e == nil {
		e = c.db.Set(key, hll.New(), c.now, store.SetOptions{})
	}
	e.SetRaw()
	if useDense {
		d, err := hll.ToDense(e.Str)
		if err != nil {
			c.ReplyError(errCorruptHLL)
			return
		}
		c.hllStore(e, d)
	}
	sparseMax := int(st.sparseMax.Load())
	for i, v := range regs {
		if v != 0 {
			c.hllSetRegister(e, i, v, sparseMax)
		}
	}
	e.SetRaw()
	hll.Invalidate(e.Str)
	c.db.Updated(e)
	c.Notify(store.ClassString, "pfadd", key)
	c.ReplyOK()
}

// PFDEBUG and PFSELFTEST, Redis's internal HyperLogLog commands (its Tcl
// suite uses them to check encodings).

func (s *Server) hllDebugCommands() []*Command {
	st := s.hllState()
	return []*Command{
		{Name: "pfdebug", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagAdmin, First: 2, Last: 2, Step: 1, KeySpecs: []string{"RW access"},
			Handler: func(c *Client, a [][]byte) { cmdPFDebug(c, a, st) },
			Group:   "hyperloglog", Since: "2.8.9", Summary: "Internal commands for debugging HyperLogLog values", Complexity: "N/A"},
		{Name: "pfselftest", Arity: 1, Flags: FlagAdmin,
			Handler: func(c *Client, a [][]byte) { cmdPFSelfTest(c, st) },
			Group:   "hyperloglog", Since: "2.8.9", Summary: "An internal command for testing HyperLogLog values", Complexity: "N/A"},
	}
}

func cmdPFDebug(c *Client, args [][]byte, st *hllState) {
	sub, key := args[1], args[2]
	e := c.LookupWrite(key)
	if e == nil {
		c.ReplyError("ERR The specified key does not exist")
		return
	}
	if e.Obj != nil {
		c.ReplyError(ErrWrongType)
		return
	}
	if !hll.Valid(e.Str) {
		c.ReplyError(errNotHLL)
		return
	}
	c.Unchanged()
	toDense := func() bool {
		if hll.IsDense(e.Str) {
			return true
		}
		d, err := hll.ToDense(e.Str)
		if err != nil {
			c.ReplyError(errCorruptHLL)
			return false
		}
		c.hllStore(e, d)
		e.SetRaw()
		c.db.Updated(e)
		c.unchanged = false
		return true
	}
	switch {
	case cEqualFold(sub, "getreg"):
		if !toDense() {
			return
		}
		var regs [hll.Registers]uint8
		_ = hll.Merge(&regs, e.Str)
		c.ReplyArray(hll.Registers)
		for _, v := range regs {
			c.ReplyInt(int64(v))
		}
	case cEqualFold(sub, "decode"):
		if hll.IsDense(e.Str) {
			c.ReplyError("ERR HLL encoding is not sparse")
			return
		}
		c.ReplyBulkString(hll.Decode(e.Str))
	case cEqualFold(sub, "encoding"):
		if hll.IsDense(e.Str) {
			c.ReplySimple("dense")
		} else {
			c.ReplySimple("sparse")
		}
	case cEqualFold(sub, "todense"):
		wasSparse := !hll.IsDense(e.Str)
		if !toDense() {
			return
		}
		if wasSparse {
			c.ReplyInt(1)
		} else {
			c.ReplyInt(0)
		}
	default:
		c.ReplyError("ERR Unknown PFDEBUG subcommand '" + string(sub) + "'")
	}
}

func cmdPFSelfTest(c *Client, st *hllState) {
	if err := hll.SelfTest(int(st.sparseMax.Load())); err != nil {
		c.ReplyError("ERR " + err.Error())
		return
	}
	c.ReplyOK()
}
