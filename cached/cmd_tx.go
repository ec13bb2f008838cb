package cached

import (
	"time"
)

// Transactions: MULTI EXEC DISCARD WATCH UNWATCH.
//
// EXEC runs its queued commands with every shard they need locked at once
// (their declared keys and the WATCHed keys; the whole keyspace when one
// of them is a FlagKeyspace command or locks by itself), so a transaction
// is atomic and isolated from every other client.

func transactionCommands() []*Command {
	const f = FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy
	return []*Command{
		{Name: "multi", Arity: 1, Flags: f, Handler: cmdMulti,
			Group: "transactions", Since: "1.2.0", Summary: "Starts a transaction.", Complexity: "O(1)"},
		{Name: "exec", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagSkipSlowlog, Handler: cmdExec,
			Group: "transactions", Since: "1.2.0", Summary: "Executes all commands in a transaction.", Complexity: "Depends on commands in the transaction"},
		{Name: "discard", Arity: 1, Flags: f, Handler: cmdDiscard,
			Group: "transactions", Since: "2.0.0", Summary: "Discards a transaction.", Complexity: "O(N), when N is the number of queued commands"},
		{Name: "watch", Arity: -2, Flags: f, First: 1, Last: -1, Step: 1, KeySpecs: []string{"RO"}, Handler: cmdWatch,
			Group: "transactions", Since: "2.2.0", Summary: "Monitors changes to keys to determine the execution of a transaction.", Complexity: "O(1) for every key."},
		{Name: "unwatch", Arity: 1, Flags: f, Handler: cmdUnwatch,
			Group: "transactions", Since: "2.2.0", Summary: "Forgets about watched keys of a transaction.", Complexity: "O(1)"},
	}
}

func cmdMulti(c *Client, args [][]byte) {
	if c.multi != nil {
		c.ReplyError("ERR MULTI calls can not be nested")
		return
	}
	c.multi = &multiState{}
	c.ReplyOK()
}

func cmdDiscard(c *Client, args [][]byte) {
	if c.multi == nil {
		c.ReplyError("ERR DISCARD without MULTI")
		return
	}
	c.discardMulti()
	c.ReplyOK()
}

// discardMulti drops the transaction and the watched keys; the caller
// holds no shard lock.
func (c *Client) discardMulti() {
	c.multi = nil
	c.srv.ks.Unwatch(&c.watch)
}

func cmdWatch(c *Client, args [][]byte) {
	if c.multi != nil {
		c.ReplyError("ERR WATCH inside MULTI is not allowed")
		return
	}
	for _, k := range args[1:] {
		c.db.Watch(&c.watch, k, c.now)
	}
	c.ReplyOK()
}

func cmdUnwatch(c *Client, args [][]byte) {
	c.srv.ks.Unwatch(&c.watch)
	c.ReplyOK()
}

func cmdExec(c *Client, args [][]byte) {
	m := c.multi
	if m == nil {
		c.ReplyError("ERR EXEC without MULTI")
		return
	}
	if m.dirty {
		c.discardMulti()
		c.ReplyError("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	// Lock everything the transaction touches, in the global order.
	if m.keysAll {
		c.ls.AddAll(c.srv.ks)
	} else {
		for _, q := range m.cmds {
			c.keyPos = q.cmd.keyPositions(q.args, c.keyPos[:0])
			for _, i := range c.keyPos {
				c.ls.Add(c.db, q.args[i])
			}
		}
		c.watch.AddLocks(&c.ls)
	}
	c.ls.Lock()
	c.multi = nil
	if c.watch.Dirty() || c.watch.ExpiredSinceWatch(c.now) {
		c.srv.ks.UnwatchLocked(&c.watch)
		c.ls.Unlock()
		c.ReplyNullArray()
		return
	}
	c.inExec = true
	c.ReplyArray(len(m.cmds))
	for _, q := range m.cmds {
		c.cmd = q.cmd
		c.failed = false
		c.runHandler(q.cmd, q.args)
		if req := c.block; req != nil {
			// A blocking command must not block inside EXEC; one that
			// asked anyway times out at once.
			c.block = nil
			c.blockDeadline = time.Time{}
			c.srv.unregisterWait(c, req)
			req.onTimeout()
		}
		c.account(q.cmd, q.args)
		if c.srv.monitors.n.Load() > 0 {
			c.srv.feedMonitors(c, q.cmd, q.args)
		}
	}
	c.inExec = false
	c.cmd = c.srv.table.byName["exec"]
	c.failed = false
	c.srv.ks.UnwatchLocked(&c.watch)
	c.ls.Unlock()
}
