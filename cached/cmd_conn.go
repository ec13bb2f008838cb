package cached

import (
	"crypto/subtle"
	"fmt"
	"math"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/anvilstack/anvil/pkg/resp"
)

// RedisVersion is the Redis version cached follows; HELLO and INFO report
// it so that clients enable the features of that version.
const RedisVersion = "7.0.15"

// Connection commands: PING ECHO HELLO AUTH SELECT SWAPDB QUIT RESET CLIENT.

func connectionCommands() []*Command {
	conn := FlagNoScript | FlagLoading | FlagStale
	return []*Command{
		{Name: "ping", Arity: -1, Flags: FlagFast, Handler: cmdPing,
			Group: "connection", Since: "1.0.0", Summary: "Returns the server's liveliness response.", Complexity: "O(1)"},
		{Name: "echo", Arity: 2, Flags: FlagLoading | FlagStale | FlagFast, Handler: cmdEcho,
			Group: "connection", Since: "1.0.0", Summary: "Returns the given string.", Complexity: "O(1)"},
		{Name: "hello", Arity: -1, Flags: conn | FlagFast | FlagNoAuth | FlagAllowBusy, Handler: cmdHello,
			Group: "connection", Since: "6.0.0", Summary: "Handshakes with the Redis server.", Complexity: "O(1)"},
		{Name: "auth", Arity: -2, Flags: conn | FlagFast | FlagNoAuth | FlagAllowBusy, Handler: cmdAuth,
			Group: "connection", Since: "1.0.0", Summary: "Authenticates the connection.", Complexity: "O(N) where N is the number of passwords defined for the user"},
		{Name: "select", Arity: 2, Flags: FlagLoading | FlagStale | FlagFast | FlagKeyspace, Handler: cmdSelect,
			Group: "connection", Since: "1.0.0", Summary: "Changes the selected database.", Complexity: "O(1)"},
		{Name: "swapdb", Arity: 3, Flags: FlagWrite | FlagFast | FlagKeyspace, Handler: cmdSwapDB,
			Group: "server", ACL: []string{"@keyspace", "@dangerous"}, Since: "4.0.0", Summary: "Swaps two Redis databases.", Complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases."},
		{Name: "quit", Arity: -1, Flags: conn | FlagFast | FlagNoAuth | FlagAllowBusy, Handler: cmdQuit,
			Group: "connection", Since: "1.0.0", Summary: "Closes the connection.", Complexity: "O(1)"},
		{Name: "reset", Arity: 1, Flags: conn | FlagFast | FlagNoAuth | FlagAllowBusy, Handler: cmdReset,
			Group: "connection", Since: "6.2.0", Summary: "Resets the connection.", Complexity: "O(1)"},
		{Name: "client", Arity: -2, Flags: 0, Group: "connection", Since: "2.4.0", Summary: "A container for client connection commands.", Complexity: "Depends on subcommand.",
			Subcommands: []*Command{
				{Name: "id", Arity: 2, Flags: conn, Handler: cmdClientID, Group: "connection", Since: "5.0.0", Summary: "Returns the unique client ID of the connection.", Complexity: "O(1)"},
				{Name: "setname", Arity: 3, Flags: conn, Handler: cmdClientSetName, Group: "connection", Since: "2.6.9", Summary: "Sets the connection name.", Complexity: "O(1)"},
				{Name: "getname", Arity: 2, Flags: conn, Handler: cmdClientGetName, Group: "connection", Since: "2.6.9", Summary: "Returns the name of the connection.", Complexity: "O(1)"},
				{Name: "list", Arity: -2, Flags: FlagAdmin | conn, Handler: cmdClientList, Group: "connection", Since: "2.4.0", Summary: "Lists open connections.", Complexity: "O(N) where N is the number of client connections"},
				{Name: "info", Arity: 2, Flags: conn, Handler: cmdClientInfo, Group: "connection", Since: "6.2.0", Summary: "Returns information about the connection.", Complexity: "O(1)"},
				{Name: "kill", Arity: -3, Flags: FlagAdmin | conn, Handler: cmdClientKill, Group: "connection", Since: "2.4.0", Summary: "Terminates open connections.", Complexity: "O(N) where N is the number of client connections"},
				{Name: "no-evict", Arity: 3, Flags: FlagAdmin | conn, Handler: cmdClientNoEvict, Group: "connection", Since: "7.0.0", Summary: "Sets the client eviction mode of the connection.", Complexity: "O(1)"},
				{Name: "unblock", Arity: -3, Flags: FlagAdmin | conn, Handler: cmdClientUnblock, Group: "connection", Since: "5.0.0", Summary: "Unblocks a client blocked by a blocking command from a different connection.", Complexity: "O(log N) where N is the number of client connections"},
				{Name: "reply", Arity: 3, Flags: conn, Handler: cmdClientReply, Group: "connection", Since: "3.2.0", Summary: "Instructs the server whether to reply to commands.", Complexity: "O(1)"},
				{Name: "no-touch", Arity: 3, Flags: conn, Handler: cmdClientNoTouch, Group: "connection", Since: "7.2.0", Summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", Complexity: "O(1)"},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdClientHelp, Group: "connection", Since: "5.0.0", Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)"},
			}},
	}
}

func cmdPing(c *Client, args [][]byte) {
	if len(args) > 2 {
		c.ReplyWrongArity()
		return
	}
	if len(args) == 2 {
		c.ReplyBulk(args[1])
		return
	}
	c.out = append(c.out, resp.Pong...)
}

func cmdEcho(c *Client, args [][]byte) { c.ReplyBulk(args[1]) }

// checkPassword compares in constant time.
func (s *Server) checkPassword(user, pass []byte) bool {
	want := *s.requirePass.Load()
	if user != nil && string(user) != "default" {
		return false
	}
	if want == "" {
		return true // the default user has nopass
	}
	return subtle.ConstantTimeCompare(pass, []byte(want)) == 1
}

func cmdAuth(c *Client, args [][]byte) {
	if len(args) > 3 {
		c.ReplyError(ErrSyntax)
		return
	}
	var user, pass []byte
	if len(args) == 2 {
		if !c.srv.authRequired() {
			c.ReplyError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
		pass = args[1]
	} else {
		user, pass = args[1], args[2]
	}
	if !c.srv.checkPassword(user, pass) {
		c.ReplyError("WRONGPASS invalid username-password pair or user is disabled.")
		return
	}
	c.authed = true
	c.ReplyOK()
}

// validClientName: no spaces, newlines or special characters.
func validClientName(name []byte) bool {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func (c *Client) setName(name []byte) bool {
	if !validClientName(name) {
		c.ReplyError("ERR Client names cannot contain spaces, newlines or special characters.")
		return false
	}
	n := string(name)
	c.name.Store(&n)
	return true
}

func cmdHello(c *Client, args [][]byte) {
	ver := int64(0)
	next := 1
	if len(args) >= 2 {
		v, ok := ParseInt(args[1])
		if !ok {
			c.ReplyError("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.ReplyError("NOPROTO unsupported protocol version")
			return
		}
		ver = v
		next = 2
	}
	for j := next; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case EqualFold(args[j], "auth") && more >= 2:
			if !c.srv.checkPassword(args[j+1], args[j+2]) {
				c.ReplyError("WRONGPASS invalid username-password pair or user is disabled.")
				return
			}
			c.authed = true
			j += 2
		case EqualFold(args[j], "setname") && more >= 1:
			if !c.setName(args[j+1]) {
				return
			}
			j++
		default:
			c.ReplyError(fmt.Sprintf("ERR Syntax error in HELLO option '%s'", args[j]))
			return
		}
	}
	if !c.authed && c.srv.authRequired() {
		c.ReplyError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if ver != 0 {
		c.proto = resp.Proto(ver)
	}
	c.ReplyMap(7)
	c.ReplyBulkString("server")
	c.ReplyBulkString("redis")
	c.ReplyBulkString("version")
	c.ReplyBulkString(RedisVersion)
	c.ReplyBulkString("proto")
	c.ReplyInt(int64(c.proto))
	c.ReplyBulkString("id")
	c.ReplyInt(c.id)
	c.ReplyBulkString("mode")
	c.ReplyBulkString("standalone")
	c.ReplyBulkString("role")
	c.ReplyBulkString("master")
	c.ReplyBulkString("modules")
	c.ReplyArray(0)
}

// intArg32 parses an int argument as getIntFromObjectOrReply does.
func (c *Client) intArg32(arg []byte, msg string) (int, bool) {
	n, ok := ParseInt(arg)
	if !ok {
		if msg == "" {
			msg = ErrNotInt
		}
		c.ReplyError(msg)
		return 0, false
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		if msg == "" {
			msg = "ERR value is out of range, value must between -2147483648 and 2147483647"
		}
		c.ReplyError(msg)
		return 0, false
	}
	return int(n), true
}

func cmdSelect(c *Client, args [][]byte) {
	id, ok := c.intArg32(args[1], "")
	if !ok {
		return
	}
	if id < 0 || id >= c.srv.ks.DBs() {
		c.ReplyError(ErrDBIndex)
		return
	}
	c.SelectDB(id)
	c.ReplyOK()
}

func cmdSwapDB(c *Client, args [][]byte) {
	a, ok := c.intArg32(args[1], "ERR invalid first DB index")
	if !ok {
		return
	}
	b, ok := c.intArg32(args[2], "ERR invalid second DB index")
	if !ok {
		return
	}
	n := c.srv.ks.DBs()
	if a < 0 || a >= n || b < 0 || b >= n {
		c.ReplyError(ErrDBIndex)
		return
	}
	c.LockAll()
	c.srv.ks.DB(a).Swap(c.srv.ks.DB(b))
	c.UnlockDB()
	c.ReplyOK()
}

func cmdQuit(c *Client, args [][]byte) {
	c.ReplyOK()
	c.closeAfter = true
}

func cmdReset(c *Client, args [][]byte) {
	if c.multi != nil {
		c.multi = nil
	}
	c.srv.ks.Unwatch(&c.watch)
	c.SelectDB(0)
	c.proto = resp.Proto2
	empty := ""
	c.name.Store(&empty)
	c.noEvict, c.noTouch = false, false
	c.authed = false
	for _, h := range c.srv.hooks.ClientReset {
		h(c)
	}
	c.ReplySimple("RESET")
}

func cmdClientID(c *Client, args [][]byte) { c.ReplyInt(c.id) }

func cmdClientSetName(c *Client, args [][]byte) {
	if c.setName(args[2]) {
		c.ReplyOK()
	}
}

func cmdClientGetName(c *Client, args [][]byte) {
	if n := c.Name(); n != "" {
		c.ReplyBulkString(n)
		return
	}
	c.ReplyNull()
}

// ClientInfo is what families add to a CLIENT LIST line.
type ClientInfo struct {
	Flags           string // letters after cached's own (P pub/sub, b blocked, t tracking, ...)
	Sub, PSub, SSub int
	Redir           int64 // tracking redirection, -1 without tracking
}

// infoLine is the client's CLIENT LIST line. It reads only what the
// client publishes for other goroutines (see publishState).
func (c *Client) infoLine(b []byte, now time.Time) []byte {
	info := ClientInfo{Redir: -1}
	for _, h := range c.srv.hooks.ClientInfo {
		h(c, &info)
	}
	st := &c.state
	multi := st.multi.Load()
	flags := info.Flags
	if multi >= 0 {
		flags = "x" + flags
	}
	if c.watch.Dirty() {
		flags += "d"
	}
	if st.noEvict.Load() {
		flags += "e"
	}
	if st.noTouch.Load() {
		flags += "T"
	}
	if flags == "" {
		flags = "N"
	}
	age := int64(now.Sub(c.created) / time.Second)
	idle := (now.UnixMilli() - c.lastUsed.Load()) / 1000
	laddr := ""
	if a := c.conn.LocalAddr(); a != nil {
		laddr = a.String()
	}
	b = fmt.Appendf(b, "id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d multi=%d qbuf=%d qbuf-free=%d argv-mem=%d multi-mem=0 rbs=%d rbp=%d obl=0 oll=0 omem=0 tot-mem=%d events=r cmd=%s user=default redir=%d resp=%d",
		c.id, c.conn.RemoteAddr().String(), laddr, c.fdNum, c.Name(), age, idle, flags, c.dbIndex.Load(),
		info.Sub, info.PSub, info.SSub, multi, st.qbuf.Load(), st.qbufCap.Load()-st.qbuf.Load(), 0,
		st.outCap.Load(), 0, st.qbufCap.Load()+st.outCap.Load(), c.lastCommandName(), info.Redir, st.proto.Load())
	return b
}

// clientState is what a client publishes, after each batch of commands,
// for CLIENT LIST in other goroutines.
type clientState struct {
	multi, qbuf, qbufCap, outCap, proto atomic.Int64
	noEvict, noTouch                    atomic.Bool
}

// publishState snapshots the client's state for CLIENT LIST; it runs once
// per batch of commands, not per command (and by CLIENT LIST/INFO for the
// client itself, whose query buffer then holds the running batch).
func (c *Client) publishState() {
	st := &c.state
	st.multi.Store(int64(c.multiCount()))
	st.qbuf.Store(int64(c.p.Buffered()))
	st.qbufCap.Store(int64(c.p.BufferCap()))
	st.outCap.Store(int64(cap(c.out)))
	st.proto.Store(int64(c.proto))
	st.noEvict.Store(c.noEvict)
	st.noTouch.Store(c.noTouch)
}

func (c *Client) multiCount() int {
	if m := c.multi; m != nil {
		return len(m.cmds)
	}
	return -1
}

func (c *Client) lastCommandName() string {
	if n := *c.lastCmd.Load(); n != "" {
		return n
	}
	return "NULL"
}

func connFD(conn net.Conn) int {
	if fd, ok := loopConnFD(conn); ok {
		return fd
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			fd := -1
			_ = rc.Control(func(f uintptr) { fd = int(f) })
			return fd
		}
	}
	return -1
}

func cmdClientInfo(c *Client, args [][]byte) {
	c.publishState()
	c.state.qbuf.Store(int64(c.p.BatchLen()))
	line := c.infoLine(c.Scratch(), time.Now())
	line = append(line, '\n')
	c.ReplyVerbatim(line)
	c.SetScratch(line)
}

func cmdClientList(c *Client, args [][]byte) {
	var ids map[int64]bool
	var typ string
	for j := 2; j < len(args); j++ {
		switch {
		case EqualFold(args[j], "type") && j+1 < len(args):
			typ = strings.ToLower(string(args[j+1]))
			if typ != "normal" && typ != "master" && typ != "replica" && typ != "slave" && typ != "pubsub" {
				c.ReplyError(fmt.Sprintf("ERR Unknown client type '%s'", args[j+1]))
				return
			}
			j++
		case EqualFold(args[j], "id") && j+1 < len(args):
			ids = map[int64]bool{}
			for j++; j < len(args); j++ {
				id, ok := ParseInt(args[j])
				if !ok || id < 1 {
					c.ReplyError("ERR Invalid client ID")
					return
				}
				ids[id] = true
			}
		default:
			c.ReplyError(ErrSyntax)
			return
		}
	}
	c.publishState()
	c.state.qbuf.Store(int64(c.p.BatchLen()))
	now := time.Now()
	b := c.Scratch()
	for _, o := range c.srv.sortedClients() {
		if ids != nil && !ids[o.id] {
			continue
		}
		if typ != "" && o.clientType() != typ {
			continue
		}
		b = o.infoLine(b, now)
		b = append(b, '\n')
	}
	c.ReplyVerbatim(b)
	c.SetScratch(b)
}

// clientType is the CLIENT LIST/KILL TYPE of the client.
func (c *Client) clientType() string {
	info := ClientInfo{}
	for _, h := range c.srv.hooks.ClientInfo {
		h(c, &info)
	}
	if strings.Contains(info.Flags, "P") {
		return "pubsub"
	}
	return "normal"
}

func cmdClientKill(c *Client, args [][]byte) {
	if len(args) == 3 {
		// The old form: CLIENT KILL addr:port.
		for _, o := range c.srv.Clients() {
			if o.conn.RemoteAddr().String() == string(args[2]) {
				o.killBy(c)
				c.ReplyOK()
				return
			}
		}
		c.ReplyError("ERR No such client")
		return
	}
	var (
		id          int64
		addr, laddr []byte
		typ         string
		skipMe      = true
		user        []byte
		maxAge      int64
	)
	for j := 2; j < len(args); j += 2 {
		if j+1 >= len(args) {
			c.ReplyError(ErrSyntax)
			return
		}
		opt, val := args[j], args[j+1]
		switch {
		case EqualFold(opt, "id"):
			n, ok := ParseInt(val)
			if !ok || n <= 0 {
				c.ReplyError("ERR client-id should be greater than 0")
				return
			}
			id = n
		case EqualFold(opt, "type"):
			typ = strings.ToLower(string(val))
			if typ != "normal" && typ != "master" && typ != "replica" && typ != "slave" && typ != "pubsub" {
				c.ReplyError(fmt.Sprintf("ERR Unknown client type '%s'", val))
				return
			}
		case EqualFold(opt, "addr"):
			addr = val
		case EqualFold(opt, "laddr"):
			laddr = val
		case EqualFold(opt, "user"):
			if string(val) != "default" {
				c.ReplyError(fmt.Sprintf("ERR No such user '%s'", val))
				return
			}
			user = val
		case EqualFold(opt, "skipme"):
			switch {
			case EqualFold(val, "yes"):
				skipMe = true
			case EqualFold(val, "no"):
				skipMe = false
			default:
				c.ReplyError(ErrSyntax)
				return
			}
		case EqualFold(opt, "maxage"):
			n, ok := ParseInt(val)
			if !ok || n < 0 {
				c.ReplyError(ErrSyntax)
				return
			}
			maxAge = n
		default:
			c.ReplyError(ErrSyntax)
			return
		}
	}
	_ = user
	now := time.Now()
	killed := int64(0)
	for _, o := range c.srv.Clients() {
		switch {
		case id != 0 && o.id != id,
			addr != nil && o.conn.RemoteAddr().String() != string(addr),
			laddr != nil && o.conn.LocalAddr().String() != string(laddr),
			typ != "" && o.clientType() != typ,
			skipMe && o == c,
			maxAge > 0 && int64(now.Sub(o.created)/time.Second) < maxAge:
			continue
		}
		o.killBy(c)
		killed++
	}
	c.ReplyInt(killed)
}

// killBy closes o on behalf of c: c itself closes after its reply.
func (o *Client) killBy(c *Client) {
	if o == c {
		c.closeAfter = true
		return
	}
	o.Kill()
}

func cmdClientReply(c *Client, args [][]byte) {
	switch {
	case EqualFold(args[2], "on"):
		c.replyOff, c.replySkip, c.replySkipNext = false, false, false
		c.ReplyOK()
	case EqualFold(args[2], "off"):
		c.replyOff = true
	case EqualFold(args[2], "skip"):
		if !c.replyOff {
			c.replySkipNext = true
		}
	default:
		c.ReplyError(ErrSyntax)
	}
}

func cmdClientNoEvict(c *Client, args [][]byte) {
	switch {
	case EqualFold(args[2], "on"):
		c.noEvict = true
	case EqualFold(args[2], "off"):
		c.noEvict = false
	default:
		c.ReplyError(ErrSyntax)
		return
	}
	c.ReplyOK()
}

func cmdClientNoTouch(c *Client, args [][]byte) {
	switch {
	case EqualFold(args[2], "on"):
		c.noTouch = true
	case EqualFold(args[2], "off"):
		c.noTouch = false
	default:
		c.ReplyError(ErrSyntax)
		return
	}
	c.ReplyOK()
}

func cmdClientHelp(c *Client, args [][]byte) {
	replyHelp(c, "CLIENT", []string{
		"ID", "    Return the ID of the current connection.",
		"INFO", "    Return information about the current client connection.",
		"GETNAME", "    Return the name of the current connection.",
		"KILL <ip:port>", "    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are: ID, TYPE, USER, ADDR, LADDR, SKIPME, MAXAGE.",
		"LIST [options ...]", "    Return information about client connections. Options: TYPE, ID.",
		"NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
		"NO-TOUCH (ON|OFF)", "    Will not touch LRU/LFU stats when this mode is on.",
		"SETNAME <name>", "    Assign the name <name> to the current connection.",
	})
}

// replyHelp writes a HELP reply in Redis's layout.
func replyHelp(c *Client, cmd string, lines []string) {
	c.ReplyArray(len(lines) + 3)
	c.ReplySimple(cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.ReplySimple(l)
	}
	c.ReplySimple("HELP")
	c.ReplySimple("    Prints this help.")
}

// sortedClients lists clients by ID.
func (s *Server) sortedClients() []*Client {
	cs := s.Clients()
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].id < cs[j-1].id; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
	return cs
}
