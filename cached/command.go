package cached

import (
	"strings"

	"github.com/anvilstack/anvil/cached/store"
)

// Flags describe a command to the dispatcher and to COMMAND INFO.
type Flags uint32

// Command flags, as Redis names them in COMMAND INFO, plus cached's own
// locking hints.
const (
	FlagWrite        Flags = 1 << iota // changes data
	FlagReadOnly                       // reads data only
	FlagDenyOOM                        // may add memory: refused with OOM over maxmemory
	FlagAdmin                          // administrative
	FlagPubSub                         // pub/sub command (allowed in a RESP2 subscribed context)
	FlagNoScript                       // not allowed in scripts
	FlagBlocking                       // may block the client
	FlagLoading                        // allowed while loading
	FlagStale                          // allowed on a stale replica
	FlagSkipMonitor                    // not shown in MONITOR
	FlagSkipSlowlog                    // not logged in SLOWLOG
	FlagFast                           // O(1) or O(log N)
	FlagNoAuth                         // allowed before AUTH
	FlagMayReplicate                   // may replicate
	FlagNoMulti                        // refused inside MULTI
	FlagAllowBusy                      // allowed while a script is busy

	// FlagKeyspace marks a command that works on a whole database or on
	// several (KEYS, SCAN, FLUSHDB, SWAPDB, SELECT, ...): the dispatcher
	// locks nothing for it and the handler locks shards itself with the
	// Client's lock helpers; inside EXEC the whole keyspace is locked
	// instead, and those helpers then do nothing.
	FlagKeyspace

	FlagNoAsyncLoading // refused while loading asynchronously (reported only)
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagWrite, "write"}, {FlagReadOnly, "readonly"}, {FlagDenyOOM, "denyoom"}, {FlagAdmin, "admin"},
	{FlagPubSub, "pubsub"}, {FlagNoScript, "noscript"}, {FlagBlocking, "blocking"}, {FlagLoading, "loading"},
	{FlagStale, "stale"}, {FlagSkipMonitor, "skip_monitor"}, {FlagSkipSlowlog, "skip_slowlog"},
	{FlagFast, "fast"}, {FlagNoAuth, "no_auth"}, {FlagMayReplicate, "may_replicate"},
	{FlagNoAsyncLoading, "no_async_loading"}, {FlagNoMulti, "no_multi"}, {FlagAllowBusy, "allow_busy"},
}

// Handler runs one command. args[0] is the command name (for a
// subcommand, args[1] is its name). The handler writes exactly one reply
// with the Client's reply methods. The keys the table declares are locked
// when it runs; args point into the connection's read buffer and must be
// copied if kept past the call.
type Handler func(c *Client, args [][]byte)

// Command is one entry of the command table.
type Command struct {
	// Name is the lowercase command name ("get"); for a subcommand, its
	// own name ("get" under "config").
	Name string
	// Arity is Redis's arity: N means exactly N arguments including the
	// name, -N at least N.
	Arity int
	Flags Flags
	// First, Last and Step are the key positions (Redis's legacy key
	// specification): Last -1 is the last argument, -2 the one before it.
	// First 0 means the command has no keys.
	First, Last, Step int
	// Keys returns the positions of the key arguments when First, Last
	// and Step cannot say it (a numkeys argument); it may return nil for
	// malformed arguments, and the handler then replies the error.
	Keys func(args [][]byte) []int
	// KeySpecs are the flags of each key argument as COMMAND
	// GETKEYSANDFLAGS reports them ("RW access update", "RO", "OW insert",
	// "RM delete"), copied from Redis's command json; the last one applies
	// to the remaining keys.
	KeySpecs []string
	// Lock adds to ls the shards the command needs when keys live in
	// another database (MOVE, COPY ... DB); it replaces the key positions.
	Lock func(c *Client, args [][]byte, ls *store.LockSet)
	// Handler runs the command (nil for a container of Subcommands).
	Handler Handler
	// Subcommands of a container command (CONFIG, CLIENT, OBJECT ...).
	Subcommands []*Command

	// For COMMAND INFO and DOCS.
	Group      string   // "string", "generic", "connection", "server", "transactions", ...
	Summary    string   // one line
	Since      string   // Redis version that introduced it
	Complexity string   // e.g. "O(1)"
	ACL        []string // ACL categories beyond the ones the flags and group imply ("@dangerous")
	// ACLNoGroup: the group implies no ACL category (SORT is "generic"
	// but not @keyspace). A container's group never does.
	ACLNoGroup bool

	parent   *Command
	fullName string // "get", "config|get"
	subs     map[string]*Command
	stats    *cmdStats
}

// FullName is the name Redis reports: "get", or "config|get" for a
// subcommand.
func (cmd *Command) FullName() string { return cmd.fullName }

// hasKeyArgs reports whether the command takes key arguments at all
// (Redis's doesCommandHaveKeys).
func (cmd *Command) hasKeyArgs() bool { return cmd.First > 0 || cmd.Keys != nil }

// keyPositions appends the indexes of the key arguments of args.
func (cmd *Command) keyPositions(args [][]byte, dst []int) []int {
	if cmd.Keys != nil {
		return append(dst, cmd.Keys(args)...)
	}
	if cmd.First <= 0 {
		return dst
	}
	last := cmd.Last
	if last < 0 {
		last = len(args) + last
	}
	step := max(cmd.Step, 1)
	for i := cmd.First; i <= last && i < len(args); i += step {
		dst = append(dst, i)
	}
	return dst
}

// Table is the set of commands a server serves, built once from every
// family's list.
type Table struct {
	byName map[string]*Command
	list   []*Command // in registration order
	// fast finds a command by its name's length and first letter, then
	// a case-insensitive compare: no hashing, no lowercased copy.
	fast [32][27][]*Command
}

func fastIndex(name []byte) (int, int, bool) {
	if len(name) == 0 || len(name) >= 32 {
		return 0, 0, false
	}
	c := name[0] | 0x20 // ASCII lowercase
	l := 26
	if c >= 'a' && c <= 'z' {
		l = int(c - 'a')
	}
	return len(name), l, true
}

// newTable indexes cmds. A duplicate name is a programming error.
func newTable(families ...[]*Command) *Table {
	t := &Table{byName: map[string]*Command{}}
	for _, fam := range families {
		for _, cmd := range fam {
			if prev, dup := t.byName[cmd.Name]; dup {
				if prev.subs == nil || cmd.Handler != nil || len(cmd.Subcommands) == 0 {
					panic("cached: command " + cmd.Name + " registered twice")
				}
				// A family adds subcommands to another's container
				// (CLIENT TRACKING ...): an entry with the container's
				// name, no handler, only Subcommands.
				for _, sub := range cmd.Subcommands {
					if _, dup := prev.subs[sub.Name]; dup {
						panic("cached: subcommand " + cmd.Name + "|" + sub.Name + " registered twice")
					}
					sub.parent = prev
					sub.fullName = prev.Name + "|" + sub.Name
					prev.subs[sub.Name] = sub
					prev.Subcommands = append(prev.Subcommands, sub)
				}
				continue
			}
			cmd.fullName = cmd.Name
			if len(cmd.Subcommands) > 0 {
				cmd.subs = map[string]*Command{}
				for _, sub := range cmd.Subcommands {
					sub.parent = cmd
					sub.fullName = cmd.Name + "|" + sub.Name
					cmd.subs[sub.Name] = sub
				}
			}
			t.byName[cmd.Name] = cmd
			t.list = append(t.list, cmd)
			if n, l, ok := fastIndex([]byte(cmd.Name)); ok {
				t.fast[n][l] = append(t.fast[n][l], cmd)
			}
		}
	}
	return t
}

// lookup finds the command args name, lowercasing without allocating for
// names up to 32 bytes.
func (t *Table) lookup(name []byte) *Command {
	if n, l, ok := fastIndex(name); ok {
		for _, cmd := range t.fast[n][l] {
			if EqualFold(name, cmd.Name) {
				return cmd
			}
		}
		return nil
	}
	var buf [32]byte
	if len(name) <= len(buf) {
		lower := buf[:len(name)]
		for i, c := range name {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		return t.byName[string(lower)]
	}
	return t.byName[strings.ToLower(string(name))]
}

// Len is the number of top-level commands.
func (t *Table) Len() int { return len(t.list) }
