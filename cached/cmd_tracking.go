package cached

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/anvilstack/anvil/pkg/resp"
)

// Client-side caching (Redis 7.0's tracking.c): CLIENT TRACKING
// on|off [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP],
// CLIENT CACHING yes|no, CLIENT GETREDIR, CLIENT TRACKINGINFO.
//
// In the default mode the keys a tracking client reads with a read-only
// command are remembered (the Executed hook, with the keys still locked,
// so a change that follows the read always finds them) in one table, key
// name -> client IDs, shared by every database as in Redis and bounded by
// tracking-table-max-keys (past it, random keys are dropped with an
// invalidation, as if they had changed). A change to a key (the
// KeyModified hook) invalidates it for every client in its entry and
// drops the entry. In BCAST mode nothing is remembered: a change to a key
// under a client's prefix is sent to it once the batch of commands that
// changed it has run (what one read of the connection brought: Redis
// sends them from beforeSleep), the batch's keys grouped in one message
// per prefix.
//
// An invalidation goes to the client as a RESP3 push ["invalidate",
// [keys]], or to its REDIRECT client: as a push if that one speaks RESP3,
// else as a message on __redis__:invalidate if it is in pub/sub mode;
// a flush sends a null instead of keys. The shard owner (store.Shard
// Owner) tells which client made a change: NOLOOP clients are spared
// their own changes, and a client's invalidations caused by its own
// command are sent after the command's reply (the AfterCommand hook), as
// Redis does. Everything else is pushed at once with Client.Push, which
// never blocks. The state is behind one mutex, a leaf lock taken under
// shard locks; while no client tracks, every hook costs one atomic load.

type trackingState struct {
	srv      *Server
	nclients atomic.Int64 // clients with tracking on
	nchanges atomic.Int64 // clients whose running command left changes to send
	maxKeys  atomic.Int64 // tracking-table-max-keys (0: no limit)

	mu       sync.Mutex
	table    map[string][]int64      // key -> IDs of clients that may cache it (usually one or a few)
	items    int                     // IDs in table
	byID     map[int64]*tracker      // clients with tracking on
	prefixes map[string]*bcastPrefix // BCAST prefix -> clients
	redirBy  map[*Client][]*tracker  // redirect target -> clients redirecting to it
}

// bcastPrefix is one BCAST prefix and the clients that registered it.
type bcastPrefix struct {
	prefix  string
	clients []*tracker
}

// tracker is one client's tracking state. The fields under "mu" are read
// by other goroutines under trackingState.mu; the others belong to the
// client's goroutine.
type tracker struct {
	c *Client
	// mu
	on, bcast, optin, optout, noloop, broken bool
	redirect                                 int64   // 0: none
	redir                                    *Client // the redirect target while it is connected
	prefixes                                 []string
	// the client's goroutine
	caching bool     // CLIENT CACHING yes/no given for the next command
	pending []string // own invalidations, sent after the reply
	pendNil bool     // a flush invalidation is pending too
}

// changes are what a client's commands changed that is reported later:
// BCAST keys by prefix (sent after the batch), and whether the running
// command flushed (one null per command).
type changes struct {
	bcast   map[*bcastPrefix][]string
	flushed bool
	pending bool // counted in trackingState.nchanges
}

type (
	trackingKey struct{} // the server's trackingState
	trackerKey  struct{} // a client's *tracker (Ext)
	changesKey  struct{} // a client's *changes (Ext)
)

func (s *Server) tracking() *trackingState { return s.Family(trackingKey{}).(*trackingState) }

// trackingClients is INFO's tracking_clients.
func (s *Server) trackingClients() int64 {
	if t, ok := s.Family(trackingKey{}).(*trackingState); ok {
		return t.nclients.Load()
	}
	return 0
}

func (s *Server) setupTracking() {
	t := &trackingState{
		srv:      s,
		table:    map[string][]int64{},
		byID:     map[int64]*tracker{},
		prefixes: map[string]*bcastPrefix{},
		redirBy:  map[*Client][]*tracker{},
	}
	t.maxKeys.Store(1000000)
	s.SetFamily(trackingKey{}, t)
	s.hooks.KeyModified = append(s.hooks.KeyModified, t.keyModified)
	s.hooks.Executed = append(s.hooks.Executed, t.executed)
	s.hooks.AfterCommand = append(s.hooks.AfterCommand, t.afterCommand)
	s.hooks.AfterBatch = append(s.hooks.AfterBatch, t.afterBatch)
	s.hooks.ClientClosed = append(s.hooks.ClientClosed, t.clientClosed)
	s.hooks.ClientReset = append(s.hooks.ClientReset, func(c *Client) { t.disable(c) })
	s.hooks.ClientInfo = append(s.hooks.ClientInfo, func(c *Client, info *ClientInfo) {
		if t.nclients.Load() == 0 {
			return
		}
		t.mu.Lock()
		if tr := t.byID[c.id]; tr != nil && tr.c == c {
			info.Flags += "t"
			if tr.broken {
				info.Flags += "R"
			}
			if tr.bcast {
				info.Flags += "B"
			}
			info.Redir = tr.redirect
		}
		t.mu.Unlock()
	})
	s.hooks.InfoFields = append(s.hooks.InfoFields, func(section string, b []byte) []byte {
		if section != "stats" {
			return b
		}
		t.mu.Lock()
		keys, items, prefixes := len(t.table), t.items, len(t.prefixes)
		t.mu.Unlock()
		b = append(b, "tracking_total_keys:"...)
		b = strconv.AppendInt(b, int64(keys), 10)
		b = append(b, "\r\ntracking_total_items:"...)
		b = strconv.AppendInt(b, int64(items), 10)
		b = append(b, "\r\ntracking_total_prefixes:"...)
		b = strconv.AppendInt(b, int64(prefixes), 10)
		return append(b, "\r\n"...)
	})
}

func (s *Server) trackingParams() []*Param {
	t := s.tracking()
	return []*Param{IntParam("tracking-table-max-keys", 0, math.MaxInt64, t.maxKeys.Load, func(n int64) {
		t.maxKeys.Store(n)
		t.mu.Lock()
		t.limit()
		t.mu.Unlock()
	})}
}

// trackingCommands adds CLIENT's tracking subcommands.
func (s *Server) trackingCommands() []*Command {
	const f = FlagNoScript | FlagLoading | FlagStale
	return []*Command{{Name: "client", Subcommands: []*Command{
		{Name: "tracking", Arity: -3, Flags: f, Handler: cmdClientTracking, Group: "connection", Since: "6.0.0",
			Summary: "Controls server-assisted client-side caching for the connection.", Complexity: "O(1). Some options may introduce additional complexity."},
		{Name: "caching", Arity: 3, Flags: f, Handler: cmdClientCaching, Group: "connection", Since: "6.0.0",
			Summary: "Instructs the server whether to track the keys in the next request.", Complexity: "O(1)"},
		{Name: "getredir", Arity: 2, Flags: f, Handler: cmdClientGetRedir, Group: "connection", Since: "6.0.0",
			Summary: "Returns the client ID to which the connection's tracking notifications are redirected.", Complexity: "O(1)"},
		{Name: "trackinginfo", Arity: 2, Flags: f, Handler: cmdClientTrackingInfo, Group: "connection", Since: "6.2.0",
			Summary: "Returns information about server-assisted client-side caching for the connection.", Complexity: "O(1)"},
	}}}
}

func trackerOf(c *Client) *tracker {
	tr, _ := c.Ext(trackerKey{}).(*tracker)
	return tr
}

func cmdClientTracking(c *Client, args [][]byte) {
	t := c.srv.tracking()
	var redirect int64
	var bcast, optin, optout, noloop bool
	var prefixes []string
	for j := 3; j < len(args); j++ {
		more := j+1 < len(args)
		switch {
		case EqualFold(args[j], "redirect") && more:
			j++
			if redirect != 0 {
				c.ReplyError("ERR A client can only redirect to a single other client")
				return
			}
			id, ok := c.IntArg(args[j])
			if !ok {
				return
			}
			if c.srv.clientByID(id) == nil {
				c.ReplyError("ERR The client ID you want redirect to does not exist")
				return
			}
			redirect = id
		case EqualFold(args[j], "bcast"):
			bcast = true
		case EqualFold(args[j], "optin"):
			optin = true
		case EqualFold(args[j], "optout"):
			optout = true
		case EqualFold(args[j], "noloop"):
			noloop = true
		case EqualFold(args[j], "prefix") && more:
			j++
			prefixes = append(prefixes, string(args[j]))
		default:
			c.ReplyError(ErrSyntax)
			return
		}
	}
	switch {
	case EqualFold(args[2], "on"):
	case EqualFold(args[2], "off"):
		t.disable(c)
		c.ReplyOK()
		return
	default:
		c.ReplyError(ErrSyntax)
		return
	}
	tr := trackerOf(c)
	t.mu.Lock()
	defer t.mu.Unlock()
	on := tr != nil && tr.on
	switch {
	case !bcast && len(prefixes) > 0:
		c.ReplyError("ERR PREFIX option requires BCAST mode to be enabled")
		return
	case on && tr.bcast != bcast:
		c.ReplyError("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
		return
	case bcast && (optin || optout):
		c.ReplyError("ERR OPTIN and OPTOUT are not compatible with BCAST")
		return
	case optin && optout:
		c.ReplyError("ERR You can't specify both OPTIN mode and OPTOUT mode")
		return
	case on && ((optin && tr.optout) || (optout && tr.optin)):
		c.ReplyError("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
		return
	}
	if bcast {
		var existing []string
		if on {
			existing = tr.prefixes
		}
		for i, p := range prefixes {
			for _, e := range existing {
				if prefixOverlap(p, e) {
					c.ReplyError(fmt.Sprintf("ERR Prefix '%s' overlaps with an existing prefix '%s'. Prefixes for a single client must not overlap.", p, e))
					return
				}
			}
			for _, q := range prefixes[i+1:] {
				if prefixOverlap(p, q) {
					c.ReplyError(fmt.Sprintf("ERR Prefix '%s' overlaps with another provided prefix '%s'. Prefixes for a single client must not overlap.", p, q))
					return
				}
			}
		}
	}
	if tr == nil {
		tr = &tracker{c: c}
		c.SetExt(trackerKey{}, tr)
	}
	if !tr.on {
		tr.on = true
		t.byID[c.id] = tr
		t.nclients.Add(1)
	}
	t.setRedirect(tr, redirect)
	tr.broken, tr.bcast, tr.optin, tr.optout, tr.noloop = false, bcast, optin, optout, noloop
	if bcast {
		if len(prefixes) == 0 {
			prefixes = []string{""}
		}
		for _, p := range prefixes {
			t.addPrefix(tr, p)
		}
	}
	c.ReplyOK()
}

// prefixOverlap: one is a prefix of the other (they would both emit an
// invalidation for some key).
func prefixOverlap(a, b string) bool {
	n := min(len(a), len(b))
	return a[:n] == b[:n]
}

// setRedirect points tr's invalidations at the client id (0: none). t.mu
// is held.
func (t *trackingState) setRedirect(tr *tracker, id int64) {
	if tr.redir != nil {
		list := t.redirBy[tr.redir]
		for i, o := range list {
			if o == tr {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(t.redirBy, tr.redir)
		} else {
			t.redirBy[tr.redir] = list
		}
	}
	tr.redirect, tr.redir = id, nil
	if id != 0 {
		if r := t.srv.clientByID(id); r != nil {
			tr.redir = r
			t.redirBy[r] = append(t.redirBy[r], tr)
		}
	}
}

// addPrefix registers tr for a BCAST prefix (once). t.mu is held.
func (t *trackingState) addPrefix(tr *tracker, p string) {
	if indexOf(tr.prefixes, p) >= 0 {
		return
	}
	bp := t.prefixes[p]
	if bp == nil {
		bp = &bcastPrefix{prefix: p}
		t.prefixes[p] = bp
	}
	bp.clients = append(bp.clients, tr)
	tr.prefixes = append(tr.prefixes, p)
}

// disable turns tracking off for c (CLIENT TRACKING off, RESET, a closed
// connection). Its IDs in the table are dropped lazily, as in Redis.
func (t *trackingState) disable(c *Client) {
	tr := trackerOf(c)
	if tr == nil || !tr.on {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range tr.prefixes {
		bp := t.prefixes[p]
		if bp == nil {
			continue
		}
		for i, o := range bp.clients {
			if o == tr {
				bp.clients = append(bp.clients[:i], bp.clients[i+1:]...)
				break
			}
		}
		if len(bp.clients) == 0 {
			delete(t.prefixes, p)
		}
	}
	t.setRedirect(tr, 0)
	tr.prefixes = nil
	tr.on, tr.bcast, tr.optin, tr.optout, tr.noloop, tr.broken, tr.caching = false, false, false, false, false, false, false
	tr.pending, tr.pendNil = nil, false
	delete(t.byID, c.id)
	if t.nclients.Add(-1) == 0 {
		// Nobody tracks: whatever the table holds can never be sent.
		t.table = map[string][]int64{}
		t.items = 0
	}
}

func (t *trackingState) clientClosed(c *Client) {
	t.disable(c)
	t.mu.Lock()
	for _, tr := range t.redirBy[c] {
		tr.redir = nil // broken: noticed at the next invalidation
	}
	delete(t.redirBy, c)
	t.mu.Unlock()
}

func cmdClientCaching(c *Client, args [][]byte) {
	tr := trackerOf(c)
	if tr == nil || !tr.on {
		c.ReplyError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch {
	case EqualFold(args[2], "yes"):
		if !tr.optin {
			c.ReplyError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case EqualFold(args[2], "no"):
		if !tr.optout {
			c.ReplyError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		c.ReplyError(ErrSyntax)
		return
	}
	tr.caching = true
	c.ReplyOK()
}

func cmdClientGetRedir(c *Client, args [][]byte) {
	if tr := trackerOf(c); tr != nil && tr.on {
		c.ReplyInt(tr.redirect)
		return
	}
	c.ReplyInt(-1)
}

func cmdClientTrackingInfo(c *Client, args [][]byte) {
	t := c.srv.tracking()
	tr := trackerOf(c)
	if tr == nil {
		tr = &tracker{}
	}
	t.mu.Lock()
	flags := []string{"off"}
	if tr.on {
		flags[0] = "on"
	}
	if tr.bcast {
		flags = append(flags, "bcast")
	}
	if tr.optin {
		flags = append(flags, "optin")
		if tr.caching {
			flags = append(flags, "caching-yes")
		}
	}
	if tr.optout {
		flags = append(flags, "optout")
		if tr.caching {
			flags = append(flags, "caching-no")
		}
	}
	if tr.noloop {
		flags = append(flags, "noloop")
	}
	if tr.broken {
		flags = append(flags, "broken_redirect")
	}
	redirect := int64(-1)
	if tr.on {
		redirect = tr.redirect
	}
	prefixes := append([]string(nil), tr.prefixes...)
	t.mu.Unlock()
	sort.Strings(prefixes)
	c.ReplyMap(3)
	c.ReplyBulkString("flags")
	c.ReplySet(len(flags))
	for _, f := range flags {
		c.ReplyBulkString(f)
	}
	c.ReplyBulkString("redirect")
	c.ReplyInt(redirect)
	c.ReplyBulkString("prefixes")
	c.ReplyArray(len(prefixes))
	for _, p := range prefixes {
		c.ReplyBulkString(p)
	}
}

// clientByID finds a connected client (Redis's lookupClientByID).
func (s *Server) clientByID(id int64) *Client {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	return s.clients[id]
}

// executed remembers the keys a tracking client read (Redis's
// trackingRememberKeys), with them still locked.
func (t *trackingState) executed(c *Client, cmd *Command, args [][]byte) {
	if t.nclients.Load() == 0 || cmd.Flags&FlagReadOnly == 0 || cmd.Flags&FlagPubSub != 0 {
		return
	}
	tr := trackerOf(c)
	if tr == nil || !tr.on || tr.bcast || (tr.optin && !tr.caching) || (tr.optout && tr.caching) {
		return
	}
	var buf [16]int
	pos := cmd.keyPositions(args, buf[:0])
	if len(pos) == 0 {
		return
	}
	t.mu.Lock()
	for _, i := range pos {
		ids, ok := t.table[string(args[i])]
		if !ok || !slices.Contains(ids, c.id) {
			t.table[string(args[i])] = append(ids, c.id)
			t.items++
		}
	}
	t.limit()
	t.mu.Unlock()
}

// limit drops random keys, with their invalidations, while the table is
// over tracking-table-max-keys (Redis's trackingLimitUsedSlots). t.mu is
// held.
func (t *trackingState) limit() {
	max := t.maxKeys.Load()
	if max == 0 {
		return
	}
	for key := range t.table { // Go's map order is random
		if int64(len(t.table)) <= max {
			return
		}
		t.invalidateKey(nil, key)
	}
}

// keyModified is the KeyModified hook: key (nil: every key of db) has
// changed, with its shard locked.
func (t *trackingState) keyModified(db int, key []byte) {
	if t.nclients.Load() == 0 {
		return
	}
	d := t.srv.ks.DB(db)
	var owner *Client
	if key == nil {
		owner, _ = d.ShardAt(0).Owner().(*Client)
		t.flushed(owner)
		return
	}
	owner, _ = d.ShardOf(key).Owner().(*Client)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.prefixes) > 0 {
		var ch *changes
		for _, bp := range t.prefixes {
			if len(key) < len(bp.prefix) || string(key[:len(bp.prefix)]) != bp.prefix {
				continue
			}
			if owner == nil { // expired or evicted in the background: now
				for _, tr := range bp.clients {
					t.send(nil, tr, []string{string(key)}, false)
				}
				continue
			}
			if ch == nil {
				ch = t.changesOf(owner)
			}
			if ch.bcast == nil {
				ch.bcast = map[*bcastPrefix][]string{}
			}
			keys := ch.bcast[bp]
			if indexOf(keys, string(key)) < 0 {
				ch.bcast[bp] = append(keys, string(key))
			}
		}
	}
	t.invalidateKey(owner, string(key))
}

// changesOf returns c's record of its running command's changes, marked
// pending (afterCommand sends and clears it).
func (t *trackingState) changesOf(c *Client) *changes {
	ch, _ := c.Ext(changesKey{}).(*changes)
	if ch == nil {
		ch = &changes{}
		c.SetExt(changesKey{}, ch)
	}
	if !ch.pending {
		ch.pending = true
		t.nchanges.Add(1)
	}
	return ch
}

// invalidateKey sends the invalidation of key to the clients that may
// cache it and forgets them (Redis's trackingInvalidateKey); owner is the
// client whose command changed it (nil: none). t.mu is held.
func (t *trackingState) invalidateKey(owner *Client, key string) {
	ids := t.table[key]
	if ids == nil {
		return
	}
	delete(t.table, key)
	t.items -= len(ids)
	for _, id := range ids {
		tr := t.byID[id]
		if tr == nil || tr.bcast {
			continue
		}
		if tr.c == owner {
			if !tr.noloop {
				tr.pending = append(tr.pending, key) // after the reply
			}
			continue
		}
		t.send(nil, tr, []string{key}, false)
	}
}

// flushed sends every tracking client the "everything is invalid" null
// (Redis's trackingInvalidateKeysOnFlush) and empties the table, once per
// command even when it flushes many databases.
func (t *trackingState) flushed(owner *Client) {
	if owner != nil {
		ch := t.changesOf(owner)
		if ch.flushed {
			return
		}
		ch.flushed = true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tr := range t.byID {
		if tr.c == owner {
			tr.pendNil = true
			continue
		}
		t.send(nil, tr, nil, true)
	}
	t.table = map[string][]int64{}
	t.items = 0
}

// afterCommand sends what the command of c caused for c itself and for
// BCAST clients, after its reply, and ends a CLIENT CACHING that applied
// to it.
func (t *trackingState) afterCommand(c *Client, cmd *Command) {
	if t.nchanges.Load() != 0 {
		// A flush is reported once per command (even when it flushes
		// many databases).
		if ch, _ := c.Ext(changesKey{}).(*changes); ch != nil && ch.flushed {
			ch.flushed = false
			if ch.bcast == nil {
				ch.pending = false
				t.nchanges.Add(-1)
			}
		}
	}
	if t.nclients.Load() == 0 {
		return
	}
	tr := trackerOf(c)
	if tr == nil {
		return
	}
	if len(tr.pending) > 0 || tr.pendNil {
		t.mu.Lock()
		for _, key := range tr.pending {
			t.send(c, tr, []string{key}, false)
		}
		if tr.pendNil {
			t.send(c, tr, nil, true)
		}
		t.mu.Unlock()
		tr.pending, tr.pendNil = tr.pending[:0], false
	}
	if c.multi == nil && (cmd.parent == nil || cmd.parent.Name != "client") {
		tr.caching = false
	}
}

// afterBatch sends the BCAST invalidations of the keys the commands of
// c's batch changed, once they have all run (Redis sends them from
// beforeSleep): one message per prefix, the keys of every command in it.
func (t *trackingState) afterBatch(c *Client) {
	if t.nchanges.Load() == 0 {
		return
	}
	if ch, _ := c.Ext(changesKey{}).(*changes); ch != nil && ch.pending {
		t.sendChanges(c, ch)
	}
}

// sendChanges sends the BCAST invalidations of the keys c changed, one
// message per prefix, and forgets them.
func (t *trackingState) sendChanges(c *Client, ch *changes) {
	if ch.bcast != nil {
		// Prefixes in order, as Redis walks its prefix table.
		order := make([]*bcastPrefix, 0, len(ch.bcast))
		for bp := range ch.bcast {
			order = append(order, bp)
		}
		sort.Slice(order, func(i, j int) bool { return order[i].prefix < order[j].prefix })
		t.mu.Lock()
		for _, bp := range order {
			keys := ch.bcast[bp]
			sort.Strings(keys)
			for _, tr := range bp.clients {
				if tr.noloop && tr.c == c {
					continue // every key here is c's own change
				}
				t.send(c, tr, keys, false)
			}
		}
		t.mu.Unlock()
	}
	ch.bcast, ch.flushed, ch.pending = nil, false, false
	t.nchanges.Add(-1)
}

// send delivers an invalidation of keys (or, if null, of everything) for
// tr (Redis's sendTrackingMessage): to tr's client or its redirect
// target. self is the client whose goroutine runs (its own messages go
// into its output, after its reply). t.mu is held.
func (t *trackingState) send(self *Client, tr *tracker, keys []string, null bool) {
	target := tr.c
	redirected := tr.redirect != 0
	if redirected {
		if tr.redir == nil {
			tr.broken = true
			if protoOfClient(self, tr.c) == resp.Proto3 {
				b := resp.AppendPush(nil, 2, resp.Proto3)
				b = resp.AppendBulkString(b, "tracking-redir-broken")
				b = resp.AppendInt(b, tr.redirect)
				deliverTo(self, tr.c, b)
			}
			return
		}
		target = tr.redir
	}
	proto := protoOfClient(self, target)
	var b []byte
	switch {
	case proto == resp.Proto3:
		b = resp.AppendPush(b, 2, resp.Proto3)
		b = resp.AppendBulkString(b, "invalidate")
	case redirected && t.srv.pubsub().subscribed(target):
		b = resp.AppendPush(b, 3, resp.Proto2)
		b = resp.AppendBulkString(b, "message")
		b = resp.AppendBulkString(b, "__redis__:invalidate")
	default:
		return // RESP2 without a pub/sub redirect: nowhere to send it
	}
	if null {
		// Redis sends the null of the tracking client's protocol.
		b = resp.AppendNull(b, protoOfClient(self, tr.c))
	} else {
		b = resp.AppendArray(b, len(keys))
		for _, k := range keys {
			b = resp.AppendBulkString(b, k)
		}
	}
	deliverTo(self, target, b)
}

// protoOfClient is c's protocol: its own field on its goroutine (self),
// the published one from others.
func protoOfClient(self, c *Client) resp.Proto {
	if c == self {
		return c.proto
	}
	return protoOf(c)
}

// deliverTo writes msg to c: into its output when c is the client whose
// goroutine runs (after its reply), else with Push.
func deliverTo(self, c *Client, msg []byte) {
	if c == self {
		c.replySelf(msg, false)
		return
	}
	c.Push(msg)
}
