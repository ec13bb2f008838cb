package cached

import (
	"errors"
	"math"
	"strings"

	"github.com/anvilstack/anvil/cached/collection"
	"github.com/anvilstack/anvil/cached/list"
	"github.com/anvilstack/anvil/cached/rdb"
	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/cached/zset"
	"github.com/anvilstack/anvil/pkg/resp"
)

// DUMP and RESTORE in Redis 7.0's serialization format (package rdb), so
// that values move between cached and Redis in both directions.

func dumpCommands() []*Command {
	return []*Command{
		{Name: "dump", Arity: 2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, KeySpecs: []string{"RO access"}, Handler: cmdDump,
			Group: "generic", Since: "2.6.0", Summary: "Returns a serialized representation of the value stored at a key.",
			Complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1)."},
		{Name: "restore", Arity: -4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, KeySpecs: []string{"OW update"}, Handler: cmdRestore,
			Group: "generic", ACL: []string{"@dangerous"}, Since: "2.6.0", Summary: "Creates a key from the serialized representation of a value.",
			Complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."},
	}
}

func cmdDump(c *Client, args [][]byte) {
	e := c.Lookup(args[1])
	if e == nil {
		c.ReplyNull()
		return
	}
	buf := c.Scratch()
	payload, ok := c.dumpPayload(buf, e)
	if !ok {
		c.ReplyError("ERR DUMP of a " + e.Kind().String() + " value is not supported")
		return
	}
	c.ReplyBulk(payload)
	c.SetScratch(payload)
}

// dumpPayload appends e's value as Redis 7.0's DUMP writes it: the type
// Redis uses for the value's encoding, then the footer.
func (c *Client) dumpPayload(dst []byte, e *store.Entry) ([]byte, bool) {
	enc := rdb.NewEncoder(dst)
	switch v := e.Obj.(type) {
	case nil:
		enc.Byte(rdb.TypeString)
		enc.String(e.Str)
	case *list.List:
		c.dumpList(enc, v)
	case *collection.Set:
		if v.IsIntset() {
			ints := make([]int64, v.Len())
			for i := range ints {
				ints[i] = v.Int(i)
			}
			enc.Byte(rdb.TypeSetIntset)
			enc.String(rdb.AppendIntset(nil, ints))
		} else {
			enc.Byte(rdb.TypeSet)
			enc.Len(uint64(v.Len()))
			for i := range v.Len() {
				enc.String(v.MemberBytes(i))
			}
		}
	case *collection.Hash:
		if !v.IsTable() {
			lp := rdb.NewListpack(nil)
			v.Each(func(f, val []byte) {
				lp.Append(f)
				lp.Append(val)
			})
			enc.Byte(rdb.TypeHashListpack)
			enc.String(lp.Bytes())
		} else {
			enc.Byte(rdb.TypeHash)
			enc.Len(uint64(v.Len()))
			v.Each(func(f, val []byte) {
				enc.String(f)
				enc.String(val)
			})
		}
	case *zset.ZSet:
		if v.IsListpack() {
			lp := rdb.NewListpack(nil)
			var num [32]byte
			v.ForEach(func(m string, score float64) bool {
				lp.Append([]byte(m))
				if i, ok := double2ll(score); ok {
					lp.AppendInt(i)
				} else {
					lp.Append(resp.AppendFloat(num[:0], score))
				}
				return true
			})
			enc.Byte(rdb.TypeZSetListpack)
			enc.String(lp.Bytes())
		} else {
			// From the highest score down, as Redis writes a skiplist.
			enc.Byte(rdb.TypeZSet2)
			enc.Len(uint64(v.Len()))
			for p := v.ByRank(v.Len() - 1); p.Valid(); p = p.Prev() {
				enc.String([]byte(p.Member()))
				enc.BinaryDouble(p.Score())
			}
		}
	default:
		return nil, false
	}
	return enc.Finish(), true
}

// double2ll is Redis's: the integer value of d when d is integral and
// within ±LLONG_MAX/2.
func double2ll(d float64) (int64, bool) {
	if d < -math.MaxInt64/2 || d > math.MaxInt64/2 || d != math.Trunc(d) {
		return 0, false
	}
	return int64(d), true
}

// Quicklist node sizes (Redis's optimization_level, SIZE_SAFETY_LIMIT,
// SIZE_ESTIMATE_OVERHEAD and packed_threshold).
var quicklistLevels = [...]int{4096, 8192, 16384, 32768, 65536}

const (
	quicklistSafety   = 8192
	quicklistOverhead = 8
	quicklistPlain    = 1 << 30
)

// dumpList writes a list as RDB_TYPE_LIST_QUICKLIST_2, packing the
// elements into listpack nodes as a Redis list built by RPUSH with the
// same list-max-listpack-size packs them.
func (c *Client) dumpList(enc *rdb.Encoder, l *list.List) {
	fill := int(min(max(c.srv.lists().fill.Load(), -5), 1<<15))
	type node struct {
		plain []byte
		lp    []byte
	}
	var nodes []node
	lp := rdb.NewListpack(nil)
	flush := func() {
		if lp.Len() > 0 {
			nodes = append(nodes, node{lp: lp.Bytes()})
			lp = rdb.NewListpack(nil)
		}
	}
	allow := func(sz int) bool {
		if lp.Len() == 0 {
			return true
		}
		n := lp.Size() + sz + quicklistOverhead
		if fill < 0 && n <= quicklistLevels[-fill-1] {
			return true
		}
		return n <= quicklistSafety && lp.Len() < fill
	}
	it := l.Iter(0, false)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		if len(v) >= quicklistPlain {
			flush()
			nodes = append(nodes, node{plain: v})
			continue
		}
		if !allow(len(v)) {
			flush()
		}
		lp.Append(v)
	}
	flush()
	enc.Byte(rdb.TypeListQuicklist2)
	enc.Len(uint64(len(nodes)))
	for _, n := range nodes {
		if n.plain != nil {
			enc.Len(rdb.ContainerPlain)
			enc.String(n.plain)
		} else {
			enc.Len(rdb.ContainerPacked)
			enc.String(n.lp)
		}
	}
}

func cmdRestore(c *Client, args [][]byte) {
	var replace, absttl bool
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(args); j++ {
		more := len(args) - j - 1
		switch a := args[j]; {
		case cEqualFold(a, "replace"):
			replace = true
		case cEqualFold(a, "absttl"):
			absttl = true
		case cEqualFold(a, "idletime") && more >= 1 && freq == -1:
			v, ok := c.IntArg(args[j+1])
			if !ok {
				return
			}
			if v < 0 {
				c.ReplyError("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = v
			j++
		case cEqualFold(a, "freq") && more >= 1 && idle == -1:
			v, ok := c.IntArg(args[j+1])
			if !ok {
				return
			}
			if v < 0 || v > 255 {
				c.ReplyError("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = v
			j++
		default:
			c.ReplyError(ErrSyntax)
			return
		}
	}
	key := args[1]
	if !replace && c.LookupWrite(key) != nil {
		c.ReplyError("BUSYKEY Target key name already exists.")
		return
	}
	ttl, ok := c.IntArg(args[2])
	if !ok {
		return
	}
	if ttl < 0 {
		c.ReplyError("ERR Invalid TTL value, must be >= 0")
		return
	}
	payload := args[3]
	if !rdb.Verify(payload) {
		c.ReplyError("ERR DUMP payload version or checksum are wrong")
		return
	}
	sink := restoreSink{c: c}
	if err := rdb.Decode(payload, rdb.Limits{MaxBytes: 4 * c.srv.protoMaxBulkLen.Load()}, &sink); err != nil {
		c.ReplyError("ERR Bad data format")
		return
	}
	obj := sink.object()

	deleted := replace && c.db.Delete(key, c.now)
	if ttl != 0 && !absttl {
		ttl += c.now // wraps like Redis's on absurd values: the key is then already expired
	}
	if ttl != 0 && ttl <= c.now {
		if deleted {
			c.Notify(store.ClassGeneric, "del", key)
		} else {
			c.Unchanged()
		}
		c.ReplyOK()
		return
	}
	e := c.db.Insert(key, sink.str, obj, ttl, c.now)
	idleMs := idle // seconds, -1 when not given
	if idle > 0 {
		idleMs = math.MaxInt64
		if idle <= math.MaxInt64/1000 {
			idleMs = idle * 1000
		}
	}
	c.db.SetAccess(e, c.now, idleMs, int(freq))
	c.Notify(store.ClassGeneric, "restore", key)
	c.ReplyOK()
}

var errDuplicate = errors.New("duplicate element")

// restoreSink builds a cached value from a decoded payload, choosing the
// encoding as Redis's rdbLoadObject does with this server's thresholds.
type restoreSink struct {
	c    *Client
	kind rdb.Kind
	typ  byte

	str  []byte
	l    *list.List
	set  *collection.Set
	hash *collection.Hash
	lim  collection.Limits

	zs      []zset.Entry
	zseen   map[string]struct{}
	zmaxLen int
}

func (s *restoreSink) Begin(kind rdb.Kind, typ byte, hint int) error {
	s.kind, s.typ = kind, typ
	srv := s.c.srv
	switch kind {
	case rdb.KindList:
		s.l = s.c.newList()
	case rdb.KindSet:
		s.lim = srv.setState().limits()
		maxIntset := min(s.lim.SetMaxIntsetEntries, 1<<30)
		if typ == rdb.TypeSet && int64(hint) > maxIntset {
			s.set = collection.NewTableSet(hint)
		} else {
			s.set = collection.NewIntSet()
		}
	case rdb.KindHash:
		s.lim = srv.hashState().limits()
		if typ == rdb.TypeHashListpack || typ == rdb.TypeHashZiplist {
			// Redis keeps a listpack it reads as long as it has few
			// enough fields, whatever their length.
			s.lim.HashMaxListpackValue = math.MaxInt64
		}
		s.hash = collection.NewHash()
	case rdb.KindZSet:
		s.zs = make([]zset.Entry, 0, min(hint, 1024))
		s.zseen = make(map[string]struct{}, min(hint, 1024))
	}
	return nil
}

func (s *restoreSink) String(v []byte) error { s.str = v; return nil }

func (s *restoreSink) Elem(v []byte) error {
	if s.kind == rdb.KindList {
		s.l.PushBack(v)
		return nil
	}
	if !s.set.Add(v, &s.lim) {
		return errDuplicate
	}
	return nil
}

func (s *restoreSink) Int(v int64) error {
	if !s.set.AddInt(v, &s.lim) {
		return errDuplicate
	}
	return nil
}

func (s *restoreSink) Pair(f, v []byte) error {
	if !s.hash.Set(f, v, &s.lim) {
		return errDuplicate
	}
	return nil
}

func (s *restoreSink) Scored(m []byte, score float64) error {
	if _, dup := s.zseen[string(m)]; dup {
		return errDuplicate
	}
	member := string(m)
	s.zseen[member] = struct{}{}
	s.zs = append(s.zs, zset.Entry{Member: member, Score: score})
	s.zmaxLen = max(s.zmaxLen, len(m))
	return nil
}

// object is the decoded value (nil for a string, in s.str).
func (s *restoreSink) object() store.Object {
	switch s.kind {
	case rdb.KindList:
		return s.l
	case rdb.KindSet:
		return s.set
	case rdb.KindHash:
		return s.hash
	case rdb.KindZSet:
		lim := s.c.srv.zsetState().limits()
		listpack := int64(len(s.zs)) <= lim.MaxListpackEntries
		if s.typ == rdb.TypeZSet || s.typ == rdb.TypeZSet2 {
			listpack = listpack && int64(s.zmaxLen) <= lim.MaxListpackValue
		}
		zset.SortEntries(s.zs)
		return zset.FromSorted(s.zs, listpack)
	}
	return nil
}

// setupDump adds Redis's migrate_cached_sockets to INFO stats: there is
// no MIGRATE, so there is never a cached socket.
func (s *Server) setupDump() {
	s.hooks.InfoFields = append(s.hooks.InfoFields, func(section string, b []byte) []byte {
		if section != "stats" {
			return b
		}
		return append(b, "migrate_cached_sockets:0\r\n"...)
	})
}

// dumpParams are the family's CONFIG parameters: sanitize-dump-payload
// is accepted and reported, but RESTORE always checks payloads deeply.
func (s *Server) dumpParams() []*Param {
	return []*Param{s.reported("sanitize-dump-payload", "no", func(v string) error {
		switch strings.ToLower(v) {
		case "no", "yes", "clients":
			return nil
		}
		return errors.New("argument(s) must be one of the following: no, yes, clients")
	})}
}
