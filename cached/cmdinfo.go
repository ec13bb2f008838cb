package cached

import (
	"slices"
	"strings"
)

// keySpec is one of a command's key specifications as COMMAND INFO
// reports them (Redis 7): which arguments are keys, found by a begin
// search and then a find-keys step, and what the command does to them.
type keySpec struct {
	notes   string
	unknown bool // begin_search and find_keys of type "unknown"
	flags   []string
	// begin_search: an index, or a keyword searched from startFrom.
	index     int
	keyword   string
	startFrom int
	// find_keys: a range (lastKey relative to the begin index, negative
	// from the end; limit 0 means no limit), or a key count at keyNumIdx.
	keyNum           bool
	lastKey, keyStep int
	limit            int
	keyNumIdx        int
	firstKey         int
}

// keySpecFlagOrder is the order Redis lists key-spec flags in.
var keySpecFlagOrder = []string{"RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
	"not_key", "incomplete", "variable_flags"}

// specFlags splits a KeySpecs entry into its flags, in Redis's order.
func specFlags(spec string) []string {
	f := strings.Fields(spec)
	slices.SortStableFunc(f, func(a, b string) int {
		return slices.Index(keySpecFlagOrder, a) - slices.Index(keySpecFlagOrder, b)
	})
	return f
}

// keySpecDetails are the key specifications of the commands whose key
// positions cannot describe them (a numkeys argument, a keyword, keys
// named by values) or whose specs carry notes, as Redis 7.0 reports them.
var keySpecDetails = map[string][]keySpec{
	"set": {rangeSpec("RW access update variable_flags", 1, 0, 1).
		withNotes("RW and ACCESS due to the optional `GET` argument")},
	"bitfield": {rangeSpec("RW access update variable_flags", 1, 0, 1).
		withNotes("This command allows both access and modification of the key")},
	"getex":   {rangeSpec("RW access update", 1, 0, 1).withNotes("RW and UPDATE because it changes the TTL")},
	"pfcount": {rangeSpec("RW access", 1, -1, 1).withNotes("RW because it may change the internal representation of the key, and propagate to replicas")},

	"spublish":     {rangeSpec("not_key", 1, 0, 1)},
	"ssubscribe":   {rangeSpec("not_key", 1, -1, 1)},
	"sunsubscribe": {rangeSpec("not_key", 1, -1, 1)},

	"georadius":         geoRadiusSpecs(6),
	"georadiusbymember": geoRadiusSpecs(5),

	"lmpop":       {keyNumSpec("RW access delete", 1)},
	"blmpop":      {keyNumSpec("RW access delete", 2)},
	"zmpop":       {keyNumSpec("RW access delete", 1)},
	"bzmpop":      {keyNumSpec("RW access delete", 2)},
	"sintercard":  {keyNumSpec("RO access", 1)},
	"zintercard":  {keyNumSpec("RO access", 1)},
	"zdiff":       {keyNumSpec("RO access", 1)},
	"zinter":      {keyNumSpec("RO access", 1)},
	"zunion":      {keyNumSpec("RO access", 1)},
	"zdiffstore":  {rangeSpec("OW update", 1, 0, 1), keyNumSpec("RO access", 2)},
	"zinterstore": {rangeSpec("OW update", 1, 0, 1), keyNumSpec("RO access", 2)},
	"zunionstore": {rangeSpec("OW update", 1, 0, 1), keyNumSpec("RO access", 2)},

	"sort": {rangeSpec("RO access", 1, 0, 1),
		unknownSpec("RO access", "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
		unknownSpec("OW update", "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array")},
	"sort_ro": {rangeSpec("RO access", 1, 0, 1),
		unknownSpec("RO access", "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort")},
}

// rangeSpec is a spec of the keys from index on: lastKey relative to it
// (negative: from the end), every keyStep-th argument.
func rangeSpec(flags string, index, lastKey, keyStep int) keySpec {
	return keySpec{flags: specFlags(flags), index: index, lastKey: lastKey, keyStep: keyStep}
}

// keyNumSpec is a spec of keys counted by the argument at index, which
// follow it.
func keyNumSpec(flags string, index int) keySpec {
	return keySpec{flags: specFlags(flags), index: index, keyNum: true, firstKey: 1, keyStep: 1}
}

// unknownSpec is a spec whose keys no search can find.
func unknownSpec(flags, notes string) keySpec {
	return keySpec{flags: specFlags(flags), unknown: true, notes: notes}
}

func (ks keySpec) withNotes(notes string) keySpec { ks.notes = notes; return ks }

// geoRadiusSpecs are GEORADIUS's (and GEORADIUSBYMEMBER's): the source
// key, and the keys after STORE and STOREDIST, searched from startFrom.
func geoRadiusSpecs(startFrom int) []keySpec {
	store := func(kw string) keySpec {
		return keySpec{flags: specFlags("OW update"), keyword: kw, startFrom: startFrom, keyStep: 1}
	}
	return []keySpec{rangeSpec("RO access", 1, 0, 1), store("STORE"), store("STOREDIST")}
}

// keySpecFlags are the flags of each key argument (the last repeats):
// KeySpecs, or for a command that declares none, what its flags imply.
func (cmd *Command) keySpecFlags() []string {
	switch {
	case len(cmd.KeySpecs) > 0:
		return cmd.KeySpecs
	case cmd.Flags&FlagWrite != 0:
		return []string{"RW access update"}
	default:
		return []string{"RO access"}
	}
}

// keySpecs are cmd's key specifications: keySpecDetails' when it has
// them, else derived from its key positions: one spec for each KeySpecs
// entry but the last, at First, First+Step, ..., and the last for the
// keys from there to Last.
func (cmd *Command) keySpecs() []keySpec {
	if specs, ok := keySpecDetails[cmd.fullName]; ok {
		return specs
	}
	if cmd.First <= 0 || cmd.Keys != nil {
		return nil
	}
	flags := cmd.keySpecFlags()
	specs := make([]keySpec, len(flags))
	for k, f := range flags {
		ks := keySpec{flags: specFlags(f), index: cmd.First + k*cmd.Step, keyStep: 1}
		if k == len(flags)-1 {
			switch {
			case cmd.Last < 0:
				ks.lastKey, ks.keyStep = cmd.Last, cmd.Step
			case cmd.Last > ks.index:
				ks.lastKey, ks.keyStep = cmd.Last-ks.index, cmd.Step
			}
		}
		specs[k] = ks
	}
	return specs
}

// replyKeySpecs writes cmd's key specifications, the 9th element of its
// COMMAND INFO entry.
func (c *Client) replyKeySpecs(cmd *Command) {
	specs := cmd.keySpecs()
	c.ReplyArray(len(specs))
	for _, ks := range specs {
		n := 3
		if ks.notes != "" {
			n++
		}
		c.ReplyMap(n)
		if ks.notes != "" {
			c.ReplyBulkString("notes")
			c.ReplyBulkString(ks.notes)
		}
		c.ReplyBulkString("flags")
		c.ReplySet(len(ks.flags))
		for _, f := range ks.flags {
			c.ReplySimple(f)
		}
		switch {
		case ks.unknown:
			c.replySpecStep("begin_search", "unknown")
		case ks.keyword != "":
			c.replySpecStep("begin_search", "keyword", specField{name: "keyword", s: ks.keyword},
				specField{name: "startfrom", n: ks.startFrom})
		default:
			c.replySpecStep("begin_search", "index", specField{name: "index", n: ks.index})
		}
		switch {
		case ks.unknown:
			c.replySpecStep("find_keys", "unknown")
		case ks.keyNum:
			c.replySpecStep("find_keys", "keynum", specField{name: "keynumidx", n: ks.keyNumIdx},
				specField{name: "firstkey", n: ks.firstKey}, specField{name: "keystep", n: ks.keyStep})
		default:
			c.replySpecStep("find_keys", "range", specField{name: "lastkey", n: ks.lastKey},
				specField{name: "keystep", n: ks.keyStep}, specField{name: "limit", n: ks.limit})
		}
	}
}

// specField is one field of a key spec step's spec: a string when s is
// set, else the integer n.
type specField struct {
	name string
	s    string
	n    int
}

// replySpecStep writes a key spec's begin_search or find_keys: its type
// and its spec.
func (c *Client) replySpecStep(name, typ string, fields ...specField) {
	c.ReplyBulkString(name)
	c.ReplyMap(2)
	c.ReplyBulkString("type")
	c.ReplyBulkString(typ)
	c.ReplyBulkString("spec")
	c.ReplyMap(len(fields))
	for _, f := range fields {
		c.ReplyBulkString(f.name)
		if f.s != "" {
			c.ReplyBulkString(f.s)
		} else {
			c.ReplyInt(int64(f.n))
		}
	}
}

// commandTips are the tips COMMAND INFO reports (its 8th element), as
// Redis 7.0 does: whether a reply can differ between calls, and how a
// cluster proxy would fan a command out and combine the replies.
var commandTips = func() map[string][]string {
	tips := map[string][]string{}
	add := func(t []string, names ...string) {
		for _, n := range names {
			tips[n] = t
		}
	}
	const (
		nondet      = "nondeterministic_output"
		nondetOrder = "nondeterministic_output_order"
		allNodes    = "request_policy:all_nodes"
		allShards   = "request_policy:all_shards"
		multiShard  = "request_policy:multi_shard"
		allOK       = "response_policy:all_succeeded"
		aggSum      = "response_policy:agg_sum"
		special     = "response_policy:special"
	)
	add([]string{nondet}, "client|info", "client|list", "dump", "hrandfield", "hscan", "lastsave",
		"object|encoding", "object|freq", "object|idletime", "object|refcount", "pttl", "spop",
		"srandmember", "sscan", "time", "ttl", "zrandmember", "zscan")
	add([]string{nondetOrder}, "command", "command|docs", "command|info", "command|list", "function|list",
		"hgetall", "hkeys", "hvals", "sdiff", "sinter", "smembers", "sunion")
	add([]string{nondet, allNodes, special}, "latency|doctor", "latency|histogram", "latency|history", "latency|latest")
	add([]string{nondet, allShards, special}, "info", "memory|doctor", "memory|stats")
	add([]string{allNodes, allOK}, "config|set", "latency|reset", "slowlog|reset")
	add([]string{allShards, allOK}, "flushall", "flushdb", "function|flush", "memory|purge", "ping")
	add([]string{allShards, aggSum}, "dbsize")
	add([]string{allShards, nondet}, "randomkey")
	add([]string{allShards, nondetOrder}, "keys")
	add([]string{multiShard, aggSum}, "del", "exists", "touch", "unlink")
	add([]string{multiShard, allOK}, "mset")
	add([]string{multiShard, "response_policy:agg_min"}, "msetnx")
	add([]string{multiShard}, "mget")
	add([]string{nondet, "request_policy:special"}, "scan")
	add([]string{allNodes, nondet}, "slowlog|get")
	add([]string{allNodes, aggSum, nondet}, "slowlog|len")
	return tips
}()
