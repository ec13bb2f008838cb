package cached

import (
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anvilstack/anvil/pkg/resp"
)

// The pub/sub family: SUBSCRIBE PSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE
// PUBLISH PUBSUB (CHANNELS NUMSUB NUMPAT SHARDCHANNELS SHARDNUMSUB) and the
// shard variants SSUBSCRIBE SUNSUBSCRIBE SPUBLISH (one node: a shard
// channel is a channel of its own namespace that patterns do not match),
// as Redis 7.0's pubsub.c.
//
// Subscriptions live in one table behind a RWMutex (a leaf lock: PUBLISH
// and keyspace notifications take it with shard locks held). Messages go
// out with Client.Push, which never blocks: a slow subscriber falls behind
// (and is dropped past the core's output limit) without slowing the
// publisher. Confirmations ((p|s)(un)subscribe replies) are the
// subscriber's own output, in order with its other replies, and go out
// even under CLIENT REPLY OFF, as Redis sends them.
//
// A RESP2 client with subscriptions may only run (P|S)(UN)SUBSCRIBE, PING
// (which then answers ["pong", arg]), QUIT and RESET (the Intercept hook);
// a RESP3 client may run anything and gets messages as push replies.

type pubsubState struct {
	// nsubs counts clients with a subscription record, so that the
	// subscribed-context check costs one atomic load while nobody
	// subscribes.
	nsubs atomic.Int64

	mu       sync.RWMutex
	channels map[string]*subscribers
	patterns map[string]*subscribers
	shard    map[string]*subscribers
	clients  map[*Client]*subscriber
}

// subscribers of one channel or pattern, in the order they subscribed.
type subscribers struct {
	name []byte
	list []*subscriber
}

func (s *subscribers) remove(sub *subscriber) {
	for i, o := range s.list {
		if o == sub {
			s.list = append(s.list[:i], s.list[i+1:]...)
			return
		}
	}
}

// subscriber is a client's subscriptions. Only the client's goroutine
// changes them (under pubsubState.mu), so it reads them without the lock;
// the record is also in the client's Ext.
type subscriber struct {
	c        *Client
	channels []string // in subscription order
	patterns []string
	shard    []string
}

func (sub *subscriber) count() int { return len(sub.channels) + len(sub.patterns) }
func (sub *subscriber) total() int { return sub.count() + len(sub.shard) }

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

type (
	pubsubKey     struct{} // the server's pubsubState
	subscriberKey struct{} // a client's *subscriber
	catchUpKey    struct{} // a publisher's last catch-up (the batch: c.flushes)
)

// pubsub is the family's state (created by setupPubSub).
func (s *Server) pubsub() *pubsubState { return s.Family(pubsubKey{}).(*pubsubState) }

// setupPubSub creates the subscription table and plugs pub/sub into the
// core: it delivers keyspace notifications, enforces the RESP2 subscribed
// context, drops a closed or reset client's subscriptions and reports
// them in CLIENT LIST and INFO.
func (s *Server) setupPubSub() {
	ps := &pubsubState{
		channels: map[string]*subscribers{},
		patterns: map[string]*subscribers{},
		shard:    map[string]*subscribers{},
		clients:  map[*Client]*subscriber{},
	}
	s.SetFamily(pubsubKey{}, ps)
	s.hooks.Publish = func(channel, message []byte) int { return ps.publish(nil, channel, message, false) }
	s.hooks.Intercept = append(s.hooks.Intercept, ps.intercept)
	drop := func(c *Client) { ps.unsubscribeAll(c) }
	s.hooks.ClientClosed = append(s.hooks.ClientClosed, drop)
	s.hooks.ClientReset = append(s.hooks.ClientReset, drop)
	s.hooks.ClientInfo = append(s.hooks.ClientInfo, func(c *Client, info *ClientInfo) {
		ps.mu.RLock()
		if sub := ps.clients[c]; sub != nil {
			info.Sub, info.PSub, info.SSub = len(sub.channels), len(sub.patterns), len(sub.shard)
			if sub.total() > 0 {
				info.Flags += "P"
			}
		}
		ps.mu.RUnlock()
	})
	s.hooks.InfoFields = append(s.hooks.InfoFields, func(section string, b []byte) []byte {
		if section != "stats" {
			return b
		}
		ps.mu.RLock()
		nc, np, ns := len(ps.channels), len(ps.patterns), len(ps.shard)
		ps.mu.RUnlock()
		b = append(b, "pubsub_channels:"...)
		b = strconv.AppendInt(b, int64(nc), 10)
		b = append(b, "\r\npubsub_patterns:"...)
		b = strconv.AppendInt(b, int64(np), 10)
		b = append(b, "\r\npubsubshard_channels:"...)
		b = strconv.AppendInt(b, int64(ns), 10)
		return append(b, "\r\n"...)
	})
}

func (s *Server) pubsubCommands() []*Command {
	const f = FlagPubSub | FlagNoScript | FlagLoading | FlagStale
	const pf = FlagPubSub | FlagLoading | FlagStale
	return []*Command{
		{Name: "subscribe", Arity: -2, Flags: f, Handler: cmdSubscribe, Group: "pubsub",
			Since: "2.0.0", Summary: "Listens for messages published to channels.", Complexity: "O(N) where N is the number of channels to subscribe to."},
		{Name: "psubscribe", Arity: -2, Flags: f, Handler: cmdPSubscribe, Group: "pubsub",
			Since: "2.0.0", Summary: "Listens for messages published to channels that match one or more patterns.", Complexity: "O(N) where N is the number of patterns to subscribe to."},
		{Name: "ssubscribe", Arity: -2, Flags: f, First: 1, Last: -1, Step: 1, Handler: cmdSSubscribe, Group: "pubsub",
			Since: "7.0.0", Summary: "Listens for messages published to shard channels.", Complexity: "O(N) where N is the number of shard channels to subscribe to."},
		{Name: "unsubscribe", Arity: -1, Flags: f, Handler: cmdUnsubscribe, Group: "pubsub",
			Since: "2.0.0", Summary: "Stops listening to messages posted to channels.", Complexity: "O(N) where N is the number of channels to unsubscribe."},
		{Name: "punsubscribe", Arity: -1, Flags: f, Handler: cmdPUnsubscribe, Group: "pubsub",
			Since: "2.0.0", Summary: "Stops listening to messages published to channels that match one or more patterns.", Complexity: "O(N) where N is the number of patterns to unsubscribe."},
		{Name: "sunsubscribe", Arity: -1, Flags: f, First: 1, Last: -1, Step: 1, Handler: cmdSUnsubscribe, Group: "pubsub",
			Since: "7.0.0", Summary: "Stops listening to messages posted to shard channels.", Complexity: "O(N) where N is the number of shard channels to unsubscribe."},
		{Name: "publish", Arity: 3, Flags: pf | FlagFast, Handler: cmdPublish, Group: "pubsub",
			Since: "2.0.0", Summary: "Posts a message to a channel.", Complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client)."},
		{Name: "spublish", Arity: 3, Flags: pf | FlagFast, First: 1, Last: 1, Step: 1, Handler: cmdSPublish, Group: "pubsub",
			Since: "7.0.0", Summary: "Post a message to a shard channel", Complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel."},
		{Name: "pubsub", Arity: -2, Group: "pubsub", Since: "2.8.0", Summary: "A container for Pub/Sub commands.", Complexity: "Depends on subcommand.",
			Subcommands: []*Command{
				{Name: "channels", Arity: -2, Flags: pf, Handler: cmdPubsubChannels, Group: "pubsub", Since: "2.8.0", Summary: "Returns the active channels.", Complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)"},
				{Name: "numsub", Arity: -2, Flags: pf, Handler: cmdPubsubNumSub, Group: "pubsub", Since: "2.8.0", Summary: "Returns a count of subscribers to channels.", Complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels"},
				{Name: "numpat", Arity: 2, Flags: pf, Handler: cmdPubsubNumPat, Group: "pubsub", Since: "2.8.0", Summary: "Returns a count of unique pattern subscriptions.", Complexity: "O(1)"},
				{Name: "shardchannels", Arity: -2, Flags: pf, Handler: cmdPubsubShardChannels, Group: "pubsub", Since: "7.0.0", Summary: "Returns the active shard channels.", Complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels)."},
				{Name: "shardnumsub", Arity: -2, Flags: pf, Handler: cmdPubsubShardNumSub, Group: "pubsub", Since: "7.0.0", Summary: "Returns the count of subscribers of shard channels.", Complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels"},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdPubsubHelp, Group: "pubsub", ACLNoGroup: true, Since: "6.2.0", Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)"},
			}},
	}
}

// intercept enforces the RESP2 subscribed context.
func (ps *pubsubState) intercept(c *Client, cmd *Command, args [][]byte) bool {
	if ps.nsubs.Load() == 0 || c.proto != resp.Proto2 {
		return false
	}
	if sub, _ := c.Ext(subscriberKey{}).(*subscriber); sub == nil || sub.total() == 0 {
		return false
	}
	switch cmd.fullName {
	case "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "quit", "reset":
		return false
	case "ping":
		if len(args) > 2 {
			return false // the arity error
		}
		c.ReplyArray(2)
		c.ReplyBulkString("pong")
		if len(args) == 2 {
			c.ReplyBulk(args[1])
		} else {
			c.ReplyBulkString("")
		}
		return true
	}
	c.Reject(fmt.Sprintf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", cmd.fullName))
	return true
}

// replySelf writes a confirmation or a message to the client's own
// output, in order with its replies; under CLIENT REPLY OFF/SKIP (whose
// replies the core drops) it is pushed instead, after the replies
// already buffered when flush is allowed (no lock held).
func (c *Client) replySelf(msg []byte, flush bool) {
	if c.replyOff || c.replySkip {
		if flush {
			c.flush()
		}
		c.Push(msg)
		return
	}
	c.out = append(c.out, msg...)
}

// confirm writes a (p|s)(un)subscribe confirmation: [kind, name, count]
// (a null name for an unsubscription with nothing to drop).
func (c *Client) confirm(kind string, name []byte, null bool, count int) {
	b := resp.AppendPush(c.Scratch(), 3, c.proto)
	b = resp.AppendBulkString(b, kind)
	if null {
		b = resp.AppendNull(b, c.proto)
	} else {
		b = resp.AppendBulk(b, name)
	}
	b = resp.AppendInt(b, int64(count))
	c.replySelf(b, true)
	c.SetScratch(b)
}

// subscriberOf returns c's subscription record, creating it. ps.mu is
// held for writing.
func (ps *pubsubState) subscriberOf(c *Client) *subscriber {
	sub := ps.clients[c]
	if sub == nil {
		sub = &subscriber{c: c}
		ps.clients[c] = sub
		ps.nsubs.Add(1)
		c.SetExt(subscriberKey{}, sub)
	}
	return sub
}

// forget drops c's record once it has no subscription. ps.mu is held.
func (ps *pubsubState) forget(sub *subscriber) {
	if sub.total() == 0 {
		delete(ps.clients, sub.c)
		ps.nsubs.Add(-1)
		sub.c.SetExt(subscriberKey{}, nil)
		sub.c.SetExemptIdle(false)
	}
}

func cmdSubscribe(c *Client, args [][]byte)  { subscribe(c, args, false) }
func cmdSSubscribe(c *Client, args [][]byte) { subscribe(c, args, true) }

func subscribe(c *Client, args [][]byte, shard bool) {
	if shard && c.InExec() {
		c.ReplyError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
		return
	}
	ps := c.srv.pubsub()
	kind, table := "subscribe", ps.channels
	if shard {
		kind, table = "ssubscribe", ps.shard
	}
	for _, a := range args[1:] {
		ps.mu.Lock()
		sub := ps.subscriberOf(c)
		list := &sub.channels
		if shard {
			list = &sub.shard
		}
		name := string(a)
		if indexOf(*list, name) < 0 {
			*list = append(*list, name)
			subs := table[name]
			if subs == nil {
				subs = &subscribers{name: []byte(name)}
				table[name] = subs
			}
			subs.list = append(subs.list, sub)
		}
		n := sub.count()
		if shard {
			n = len(sub.shard)
		}
		ps.mu.Unlock()
		c.confirm(kind, a, false, n)
	}
	c.SetExemptIdle(true)
}

func cmdPSubscribe(c *Client, args [][]byte) {
	ps := c.srv.pubsub()
	for _, a := range args[1:] {
		ps.mu.Lock()
		sub := ps.subscriberOf(c)
		name := string(a)
		if indexOf(sub.patterns, name) < 0 {
			sub.patterns = append(sub.patterns, name)
			subs := ps.patterns[name]
			if subs == nil {
				subs = &subscribers{name: []byte(name)}
				ps.patterns[name] = subs
			}
			subs.list = append(subs.list, sub)
		}
		n := sub.count()
		ps.mu.Unlock()
		c.confirm("psubscribe", a, false, n)
	}
	c.SetExemptIdle(true)
}

// unsubscribeFrom drops name from c's list (channels, patterns or shard
// channels) and from table; it reports whether c had it. ps.mu is held.
func (ps *pubsubState) unsubscribeFrom(sub *subscriber, list *[]string, table map[string]*subscribers, name string) bool {
	i := indexOf(*list, name)
	if i < 0 {
		return false
	}
	*list = append((*list)[:i], (*list)[i+1:]...)
	if subs := table[name]; subs != nil {
		subs.remove(sub)
		if len(subs.list) == 0 {
			delete(table, name)
		}
	}
	return true
}

// unsubscribe serves UNSUBSCRIBE (which 0), PUNSUBSCRIBE (1) and
// SUNSUBSCRIBE (2).
func unsubscribe(c *Client, args [][]byte, which int) {
	ps := c.srv.pubsub()
	kind := [...]string{"unsubscribe", "punsubscribe", "sunsubscribe"}[which]
	pick := func(sub *subscriber) (*[]string, map[string]*subscribers) {
		switch which {
		case 1:
			return &sub.patterns, ps.patterns
		case 2:
			return &sub.shard, ps.shard
		}
		return &sub.channels, ps.channels
	}
	count := func(sub *subscriber) int {
		if which == 2 {
			return len(sub.shard)
		}
		return sub.count()
	}
	names := args[1:]
	if len(names) == 0 {
		ps.mu.RLock()
		var all []string
		if sub := ps.clients[c]; sub != nil {
			list, _ := pick(sub)
			all = append(all, *list...)
		}
		ps.mu.RUnlock()
		if len(all) == 0 {
			n := 0
			ps.mu.RLock()
			if sub := ps.clients[c]; sub != nil {
				n = count(sub)
			}
			ps.mu.RUnlock()
			c.confirm(kind, nil, true, n)
		}
		for _, name := range all {
			ps.unsubscribeOne(c, []byte(name), kind, pick, count)
		}
		return
	}
	for _, a := range names {
		ps.unsubscribeOne(c, a, kind, pick, count)
	}
}

func (ps *pubsubState) unsubscribeOne(c *Client, name []byte, kind string,
	pick func(*subscriber) (*[]string, map[string]*subscribers), count func(*subscriber) int) {
	ps.mu.Lock()
	n := 0
	if sub := ps.clients[c]; sub != nil {
		list, table := pick(sub)
		ps.unsubscribeFrom(sub, list, table, string(name))
		n = count(sub)
		ps.forget(sub)
	}
	ps.mu.Unlock()
	c.confirm(kind, name, false, n)
}

func cmdUnsubscribe(c *Client, args [][]byte)  { unsubscribe(c, args, 0) }
func cmdPUnsubscribe(c *Client, args [][]byte) { unsubscribe(c, args, 1) }
func cmdSUnsubscribe(c *Client, args [][]byte) { unsubscribe(c, args, 2) }

// unsubscribeAll drops every subscription of c without confirmations
// (the connection closed, or RESET).
func (ps *pubsubState) unsubscribeAll(c *Client) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	sub := ps.clients[c]
	if sub == nil {
		return
	}
	for _, name := range append([]string(nil), sub.channels...) {
		ps.unsubscribeFrom(sub, &sub.channels, ps.channels, name)
	}
	for _, name := range append([]string(nil), sub.patterns...) {
		ps.unsubscribeFrom(sub, &sub.patterns, ps.patterns, name)
	}
	for _, name := range append([]string(nil), sub.shard...) {
		ps.unsubscribeFrom(sub, &sub.shard, ps.shard, name)
	}
	ps.forget(sub)
}

// subscribed reports whether c has any subscription (Redis's
// CLIENT_PUBSUB flag); safe from any goroutine.
func (ps *pubsubState) subscribed(c *Client) bool {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	sub := ps.clients[c]
	return sub != nil && sub.total() > 0
}

func cmdPublish(c *Client, args [][]byte) {
	c.srv.pubsub().letSubscribersCatchUp(c, args[1], false)
	c.ReplyInt(int64(c.srv.pubsub().publish(c, args[1], args[2], false)))
}

func cmdSPublish(c *Client, args [][]byte) {
	c.srv.pubsub().letSubscribersCatchUp(c, args[1], true)
	c.ReplyInt(int64(c.srv.pubsub().publish(c, args[1], args[2], true)))
}

// catchUpLimit is the most subscribers a publication looks at before it
// publishes (see letSubscribersCatchUp), and catchUpWait how long it waits
// at most.
const (
	catchUpLimit = 8
	catchUpWait  = 2 * time.Millisecond
)

// letSubscribersCatchUp lets the clients that could receive a publication
// first run the commands they have already sent. In Redis, one thread
// serves connections in the order their data arrived, so an UNSUBSCRIBE
// sent on one connection just before a PUBLISH on another is always
// applied first; clients (and Redis's own tests) rely on it. Here
// connections run in parallel and Go's scheduler tends to run the last
// readied goroutine first, so the publisher yields once, and, when few
// clients could receive the message, waits (at most catchUpWait) until
// none of them has unread input in its socket.
func (ps *pubsubState) letSubscribersCatchUp(from *Client, channel []byte, shard bool) {
	if ps.nsubs.Load() == 0 {
		return
	}
	// Once per batch of commands the publisher sent (they arrived
	// together) is enough, and keeps a pipelining publisher's cost low.
	last, _ := from.Ext(catchUpKey{}).(*int)
	if last == nil {
		last = new(int)
		*last = -1
		from.SetExt(catchUpKey{}, last)
	}
	if *last == from.flushes {
		return
	}
	*last = from.flushes
	runtime.Gosched()
	var conns [catchUpLimit]*Client
	n := 0
	ps.mu.RLock()
	table := ps.channels
	if shard {
		table = ps.shard
	}
	if subs := table[string(channel)]; subs != nil {
		for _, sub := range subs.list {
			if n == len(conns) {
				ps.mu.RUnlock()
				return
			}
			conns[n] = sub.c
			n++
		}
	}
	if !shard {
		for _, subs := range ps.patterns {
			for _, sub := range subs.list {
				if n == len(conns) {
					ps.mu.RUnlock()
					return
				}
				conns[n] = sub.c
				n++
			}
		}
	}
	ps.mu.RUnlock()
	deadline := time.Now().Add(catchUpWait)
	for _, c := range conns[:n] {
		if c == from {
			continue
		}
		for unreadInput(c) && time.Now().Before(deadline) {
			runtime.Gosched()
		}
	}
	runtime.Gosched()
}

// message builds the messages of one publication in each protocol,
// lazily.
type message struct {
	kind          string // "message" or "smessage"
	channel, body []byte
	enc           [2][]byte // RESP2, RESP3
}

func (m *message) encoded(proto resp.Proto) []byte {
	i := 0
	if proto == resp.Proto3 {
		i = 1
	}
	if m.enc[i] == nil {
		b := resp.AppendPush(make([]byte, 0, 32+len(m.channel)+len(m.body)), 3, proto)
		b = resp.AppendBulkString(b, m.kind)
		b = resp.AppendBulk(b, m.channel)
		m.enc[i] = resp.AppendBulk(b, m.body)
	}
	return m.enc[i]
}

// deliver sends msg to sub's client: into its own output when it is the
// publisher (in order, before PUBLISH's reply, as Redis does), else
// pushed.
func deliver(from *Client, sub *subscriber, msg []byte) {
	if sub.c == from {
		from.replySelf(msg, false)
		return
	}
	sub.c.Push(msg)
}

// publish delivers a message on channel (a shard channel if shard) and
// returns the number of receivers. from is the publishing client (nil
// for keyspace notifications).
func (ps *pubsubState) publish(from *Client, channel, body []byte, shard bool) int {
	m := message{kind: "message", channel: channel, body: body}
	table := ps.channels
	if shard {
		m.kind, table = "smessage", ps.shard
	}
	n := 0
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	if subs := table[string(channel)]; subs != nil {
		for _, sub := range subs.list {
			deliver(from, sub, m.encoded(protoOf(sub.c)))
			n++
		}
	}
	if shard || len(ps.patterns) == 0 {
		return n
	}
	var pm [2][]byte // pmessages per protocol, rebuilt per pattern
	for pat, subs := range ps.patterns {
		if !GlobMatch(subs.name, channel, false) {
			continue
		}
		pm[0], pm[1] = nil, nil
		for _, sub := range subs.list {
			proto := protoOf(sub.c)
			i := 0
			if proto == resp.Proto3 {
				i = 1
			}
			if pm[i] == nil {
				b := resp.AppendPush(make([]byte, 0, 48+len(pat)+len(channel)+len(body)), 4, proto)
				b = resp.AppendBulkString(b, "pmessage")
				b = resp.AppendBulkString(b, pat)
				b = resp.AppendBulk(b, channel)
				pm[i] = resp.AppendBulk(b, body)
			}
			deliver(from, sub, pm[i])
			n++
		}
	}
	return n
}

// protoOf is the protocol a client speaks as other goroutines see it (the
// client publishes it after every batch of commands).
func protoOf(c *Client) resp.Proto { return resp.Proto(c.state.proto.Load()) }

func cmdPubsubChannels(c *Client, args [][]byte) { channelList(c, args, false) }

func cmdPubsubShardChannels(c *Client, args [][]byte) { channelList(c, args, true) }

func channelList(c *Client, args [][]byte, shard bool) {
	if len(args) > 3 {
		c.replySubcommandSyntaxError(args)
		return
	}
	ps := c.srv.pubsub()
	ps.mu.RLock()
	table := ps.channels
	if shard {
		table = ps.shard
	}
	names := make([]string, 0, len(table))
	for name := range table {
		if len(args) == 2 || GlobMatch(args[2], []byte(name), false) {
			names = append(names, name)
		}
	}
	ps.mu.RUnlock()
	sort.Strings(names)
	c.ReplyArray(len(names))
	for _, n := range names {
		c.ReplyBulkString(n)
	}
}

func cmdPubsubNumSub(c *Client, args [][]byte)      { numSub(c, args, false) }
func cmdPubsubShardNumSub(c *Client, args [][]byte) { numSub(c, args, true) }

func numSub(c *Client, args [][]byte, shard bool) {
	ps := c.srv.pubsub()
	c.ReplyArray(2 * (len(args) - 2))
	ps.mu.RLock()
	table := ps.channels
	if shard {
		table = ps.shard
	}
	for _, a := range args[2:] {
		n := 0
		if subs := table[string(a)]; subs != nil {
			n = len(subs.list)
		}
		c.ReplyBulk(a)
		c.ReplyInt(int64(n))
	}
	ps.mu.RUnlock()
}

func cmdPubsubNumPat(c *Client, args [][]byte) {
	ps := c.srv.pubsub()
	ps.mu.RLock()
	n := len(ps.patterns)
	ps.mu.RUnlock()
	c.ReplyInt(int64(n))
}

// replySubcommandSyntaxError is Redis's addReplySubcommandSyntaxError.
func (c *Client) replySubcommandSyntaxError(args [][]byte) {
	c.ReplyError(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try %s HELP.",
		args[1], upperASCII(args[0])))
}

func upperASCII(b []byte) string {
	out := make([]byte, len(b))
	for i, ch := range b {
		if ch >= 'a' && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		out[i] = ch
	}
	return string(out)
}

func cmdPubsubHelp(c *Client, args [][]byte) {
	replyHelp(c, "PUBSUB", []string{
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
	})
}
