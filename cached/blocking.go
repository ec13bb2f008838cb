package cached

import (
	"bytes"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anvilstack/anvil/pkg/resp"
)

// Blocking commands (BLPOP, BZPOPMIN, ...) are built on two calls:
//
//   - a handler that finds nothing to serve calls c.Block(keys, timeout,
//     onTimeout) and writes no reply. After the handler returns and the
//     locks are released, the connection's goroutine waits until a key is
//     signalled ready, the timeout passes, or the client is killed;
//   - a command that adds data a blocked client may take (LPUSH, ZADD,
//     ...) calls c.SignalReady(key) with the key's shard locked.
//
// A woken client runs its command again from the start, with its keys
// locked as usual, so what it takes is decided atomically; if another
// client got there first it blocks again for the time that is left, in the
// same place in the queue. Clients are served in the order they blocked,
// as in Redis: SignalReady wakes only the first waiter of the key, and a
// waiter that leaves the queue (served, timed out, killed) passes the
// signal on to the next one. On timeout, onTimeout writes the reply (a
// null array for BLPOP).
//
// Waiters register before the handler's locks are released, so a push
// that follows can never be missed. While a client waits, its connection
// is still read (closeWatch): a close ends the wait at once, as Redis
// frees a blocked client when its read handler sees the close, so a dead
// connection never takes a pushed value; input that arrives meanwhile is
// kept, unprocessed, and runs after the blocking command.

type waitKey struct {
	db  int
	key string
}

type blockState struct {
	mu      sync.Mutex // a leaf lock: taken under shard locks, takes none
	waiters map[waitKey][]*Client
	// nwait counts the entries of waiters' queues, for a lock-free "is
	// anyone waiting" check on every key change.
	nwait atomic.Int64

	// Synchronous serving (see settle): groups[c] counts the clients that
	// the running command of c woke and that have not run again yet;
	// owed[w] lists the groups w releases once it has run. ngroups is
	// len(groups), read without mu.
	groups  map[*Client]*wakeGroup
	owed    map[*Client][]*wakeGroup
	ngroups atomic.Int64
}

// wakeGroup counts the woken clients a command waits for.
type wakeGroup struct {
	n    int
	done chan struct{} // closed when n drops to 0
}

// settleTimeout bounds how long a command's reply waits for the clients
// it woke to run.
const settleTimeout = time.Second

// blockReq is a pending wait of one client.
type blockReq struct {
	keys      []waitKey
	deadline  time.Time // zero: wait forever
	onTimeout func()
	wake      <-chan struct{}
}

func (s *Server) setupBlocking() {
	b := &s.blocking
	b.waiters = map[waitKey][]*Client{}
	b.groups = map[*Client]*wakeGroup{}
	b.owed = map[*Client][]*wakeGroup{}
	s.hooks.ClientInfo = append(s.hooks.ClientInfo, func(c *Client, info *ClientInfo) {
		if c.blockedNow.Load() {
			info.Flags += "b"
		}
	})
	// A key that comes into being by any command (RENAME, MOVE, COPY,
	// SWAPDB, SORT ... STORE, RESTORE), not only by its family's push,
	// wakes its first waiter, as Redis's dbAdd signals every new key. The
	// woken command checks the type itself.
	s.hooks.KeyModified = append(s.hooks.KeyModified, func(db int, key []byte) {
		if b.nwait.Load() != 0 {
			s.keyChanged(db, key)
		}
	})
	s.hooks.ClientClosed = append(s.hooks.ClientClosed, func(c *Client) {
		b.mu.Lock()
		b.release(c)
		if _, ok := b.groups[c]; ok {
			delete(b.groups, c)
			b.ngroups.Add(-1)
		}
		b.mu.Unlock()
	})
}

// keyChanged wakes the first waiter of key (every waited key of db when
// key is nil) if the key exists. The key's shard (every shard of db) is
// locked by the caller.
func (s *Server) keyChanged(db int, key []byte) {
	b := &s.blocking
	d := s.ks.DB(db)
	b.mu.Lock()
	defer b.mu.Unlock()
	if key == nil {
		for wk, ws := range b.waiters {
			if wk.db == db && len(ws) > 0 && d.Peek([]byte(wk.key)) != nil {
				ws[0].Wake()
			}
		}
		return
	}
	if ws := b.waiters[waitKey{db, string(key)}]; len(ws) > 0 && d.Peek(key) != nil {
		ws[0].noteReady(key)
		ws[0].Wake()
	}
}

// noteReady records that key was signalled ready for the blocked client
// c, unless it already was. s.blocking.mu is held.
func (c *Client) noteReady(key []byte) {
	for _, k := range c.readyKeys {
		if k == string(key) {
			return
		}
	}
	c.readyKeys = append(c.readyKeys, string(key))
}

// servingOrder is the order in which a blocking command looks at its keys:
// on a run after a wake-up, the keys signalled ready come first, in the
// order they were signalled, as Redis serves a blocked client from the
// key that became ready first (a MULTI that pushes to the second key and
// then the first serves from the second); the others follow in argument
// order. On a first run it returns keys as they are. It consumes the
// record of signalled keys.
func (c *Client) servingOrder(keys [][]byte) [][]byte {
	if c.blockActive == nil {
		return keys
	}
	b := &c.srv.blocking
	b.mu.Lock()
	ready := c.readyKeys
	c.readyKeys = nil
	b.mu.Unlock()
	if len(ready) == 0 {
		return keys
	}
	out := make([][]byte, 0, len(keys))
	for _, r := range ready {
		if i := slices.IndexFunc(keys, func(k []byte) bool { return string(k) == r }); i >= 0 {
			out = append(out, keys[i])
		}
	}
	for _, k := range keys {
		if !slices.ContainsFunc(out, func(o []byte) bool { return bytes.Equal(o, k) }) {
			out = append(out, k)
		}
	}
	return out
}

// Block makes the current command wait for one of keys (of the client's
// database) to be signalled ready, for at most timeout (0: forever). Call
// it from a handler, with the keys' shards locked, instead of replying;
// never inside EXEC (check InExec and reply as for a timeout). When the
// command runs again after a wake-up, the original deadline still holds.
func (c *Client) Block(keys [][]byte, timeout time.Duration, onTimeout func()) {
	if req := c.blockActive; req != nil {
		// Woken, but nothing for us after all: wait again, keeping our
		// place in the queues.
		req.wake = c.WakeChan()
		req.onTimeout = onTimeout
		c.block = req
		return
	}
	if c.blockDeadline.IsZero() && timeout > 0 {
		c.blockDeadline = time.Now().Add(timeout)
	}
	req := &blockReq{deadline: c.blockDeadline, onTimeout: onTimeout, wake: c.WakeChan()}
	db := c.db.ID()
	b := &c.srv.blocking
	b.mu.Lock()
	for _, k := range keys {
		wk := waitKey{db, string(k)}
		req.keys = append(req.keys, wk)
		b.waiters[wk] = append(b.waiters[wk], c)
	}
	b.nwait.Add(int64(len(keys)))
	b.mu.Unlock()
	c.block = req
}

// SignalReady wakes the clients blocked on key in the client's database.
// Call it with key's shard locked, after adding data to key. The reply of
// the running command then waits until the woken clients have run (see
// settle), as Redis serves blocked clients before it replies.
func (c *Client) SignalReady(key []byte) { c.srv.signalReady(c, c.db.ID(), key) }

// SignalReady wakes the first client blocked on key of database db.
func (s *Server) SignalReady(db int, key []byte) { s.signalReady(nil, db, key) }

func (s *Server) signalReady(from *Client, db int, key []byte) {
	b := &s.blocking
	if b.nwait.Load() == 0 {
		return // registration happens under the key's lock, which we hold
	}
	b.mu.Lock()
	if ws := b.waiters[waitKey{db, string(key)}]; len(ws) > 0 {
		if w := ws[0]; w != from {
			if from != nil {
				b.owe(from, w)
			}
			w.noteReady(key)
			w.Wake()
		}
	}
	b.mu.Unlock()
}

// owe makes the command of from (and every command from itself was woken
// for) wait for w to run. b.mu is held.
func (b *blockState) owe(from, w *Client) {
	g := b.groups[from]
	if g == nil {
		g = &wakeGroup{}
		b.groups[from] = g
		b.ngroups.Add(1)
	}
	b.addOwed(w, g)
	for _, pg := range b.owed[from] {
		b.addOwed(w, pg)
	}
}

func (b *blockState) addOwed(w *Client, g *wakeGroup) {
	if g.n == 0 {
		g.done = make(chan struct{})
	}
	g.n++
	b.owed[w] = append(b.owed[w], g)
}

// release tells the groups w was woken for that it has run. b.mu is held.
func (b *blockState) release(w *Client) {
	for _, g := range b.owed[w] {
		if g.n--; g.n == 0 {
			close(g.done)
		}
	}
	delete(b.owed, w)
}

// settle waits, after a command has released its locks, until the
// blocked clients it woke (and those they woke in turn) have run again,
// for at most settleTimeout. So when a push returns, the clients it
// unblocked have been served, as in Redis: a LINDEX that follows sees
// the list after a chain of BLMOVEs, a WATCH sees their writes.
func (c *Client) settle() {
	b := &c.srv.blocking
	if b.ngroups.Load() == 0 {
		return
	}
	var timer *time.Timer
	b.mu.Lock()
	for {
		g := b.groups[c]
		if g == nil {
			break
		}
		if g.n == 0 {
			delete(b.groups, c)
			b.ngroups.Add(-1)
			break
		}
		done := g.done
		b.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(settleTimeout)
			defer timer.Stop()
		}
		select {
		case <-done:
		case <-timer.C:
			b.mu.Lock()
			delete(b.groups, c)
			b.ngroups.Add(-1)
			b.mu.Unlock()
			return
		}
		b.mu.Lock()
	}
	b.mu.Unlock()
}

// BlockedOn reports how many clients wait on key of db (for tests and
// INFO).
func (s *Server) BlockedOn(db int, key []byte) int {
	b := &s.blocking
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiters[waitKey{db, string(key)}])
}

// unregisterWait takes c out of the queues of req's keys and passes the
// signal on to the next waiter of each (a wake-up c did not use, or data
// left after c was served, must not be lost).
func (s *Server) unregisterWait(c *Client, req *blockReq) {
	b := &s.blocking
	b.mu.Lock()
	defer b.mu.Unlock()
	c.readyKeys = nil
	for _, k := range req.keys {
		ws := b.waiters[k]
		for i, w := range ws {
			if w == c {
				ws = append(ws[:i], ws[i+1:]...)
				b.nwait.Add(-1)
				break
			}
		}
		if len(ws) == 0 {
			delete(b.waiters, k)
		} else {
			b.waiters[k] = ws
			if len(b.owed[c]) > 0 {
				b.owe(c, ws[0]) // whoever woke c waits for the next one too
			}
			ws[0].Wake()
		}
	}
	b.release(c)
}

// waitBlocked runs after a handler asked to block, with no lock held: it
// waits, then re-runs the command or replies the timeout.
func (c *Client) waitBlocked(cmd *Command, args [][]byte) {
	s := c.srv
	req := c.block
	c.leaveLoop() // the wait must not hold up an event loop
	defer func() {
		c.blockDeadline = time.Time{}
		c.blockActive = nil
		s.unregisterWait(c, req)
		c.blockedNow.Store(false)
		s.blockedClients.Add(-1)
	}()
	c.unblock.Store(unblockNone) // a stale CLIENT UNBLOCK aimed at an earlier wait
	s.blockedClients.Add(1)
	c.blockedNow.Store(true)
	// Replies so far (earlier pipelined commands) go out before we wait.
	c.flush()
	w := c.watchClose()
	defer w.stop(c)
	var timeout <-chan time.Time
	if !req.deadline.IsZero() {
		timer := time.NewTimer(time.Until(req.deadline))
		defer timer.Stop()
		timeout = timer.C
	}
	for c.block != nil {
		c.block = nil
		select {
		case <-req.wake:
		case <-timeout:
			req.onTimeout()
			return
		}
		switch c.unblock.Swap(unblockNone) { // CLIENT UNBLOCK
		case unblockTimeout:
			req.onTimeout()
			return
		case unblockError:
			c.ReplyError("UNBLOCKED client unblocked via CLIENT UNBLOCK")
			return
		}
		if c.killed.Load() || s.closing.Load() || w.closed.Load() {
			c.closeAfter = true
			return
		}
		c.now = time.Now().UnixMilli()
		c.tick = s.mono() // blocked time is not the command's run time
		c.blockActive = req
		c.lock(cmd, args)
		c.runHandler(cmd, args)
		c.unlock()
		if c.block != nil {
			// Nothing for us after all: the command that woke us need
			// not wait for us any longer.
			b := &s.blocking
			b.mu.Lock()
			b.release(c)
			b.mu.Unlock()
		}
	}
}

// closeWatch reads a blocked client's connection while its goroutine
// waits, to notice a close; what it reads is kept for after the wait.
type closeWatch struct {
	closed   atomic.Bool // the peer closed, the read failed or the input outgrew the limit
	stopping atomic.Bool
	done     chan struct{}
	in       []byte // input read during the wait (owned by the watcher until done)
}

// watchClose starts reading the connection for the duration of a wait.
func (c *Client) watchClose() *closeWatch {
	w := &closeWatch{done: make(chan struct{})}
	if c.rawConn() == nil { // not a socket (tests' pipes): nothing to watch
		close(w.done)
		return w
	}
	_ = c.conn.SetReadDeadline(time.Time{}) // the idle-buffer deadline must not end the watch
	if c.killed.Load() {
		_ = c.conn.SetReadDeadline(time.Unix(1, 0))
	} else if c.srv.closing.Load() {
		_ = c.conn.SetReadDeadline(time.Now().Add(shutdownReadGrace))
	}
	limit := int(c.srv.queryBufferLimit.Load()) - c.p.Buffered()
	go func() {
		defer close(w.done)
		buf := make([]byte, 4<<10)
		for {
			n, err := c.conn.Read(buf)
			if n > 0 {
				w.in = append(w.in, buf[:n]...)
				c.lastUsed.Store(time.Now().UnixMilli())
				c.srv.stats.netInput.Add(int64(n))
				if len(w.in) > limit {
					err = resp.ErrQueryBufferLimit
				}
			}
			if err != nil {
				if w.stopping.Load() && isTimeout(err) {
					return
				}
				w.closed.Store(true)
				c.Wake()
				return
			}
		}
	}()
	return w
}

// stop ends the watch after the wait and hands what it read to the
// parser, behind the input not yet processed.
func (w *closeWatch) stop(c *Client) {
	if w.stopping.CompareAndSwap(false, true) {
		_ = c.conn.SetReadDeadline(time.Unix(1, 0))
	}
	<-w.done
	if w.closed.Load() {
		c.closeAfter = true
		return
	}
	// Restore the read deadline a kill or the shutdown may have set.
	_ = c.conn.SetReadDeadline(time.Time{})
	if c.killed.Load() {
		_ = c.conn.SetReadDeadline(time.Unix(1, 0))
	} else if c.srv.closing.Load() {
		_ = c.conn.SetReadDeadline(time.Now().Add(shutdownReadGrace))
	}
	c.heldInput = w.in
}

// CLIENT UNBLOCK's requests, set on the target by another client.
const (
	unblockNone int32 = iota
	unblockTimeout
	unblockError
)

func cmdClientUnblock(c *Client, args [][]byte) {
	mode := unblockTimeout
	if len(args) == 4 {
		switch {
		case EqualFold(args[3], "timeout"):
		case EqualFold(args[3], "error"):
			mode = unblockError
		default:
			c.ReplyError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	id, ok := c.IntArg(args[2])
	if !ok {
		return
	}
	for _, o := range c.srv.Clients() {
		if o.id == id && o.blockedNow.Load() {
			o.unblock.Store(mode)
			o.Wake()
			c.ReplyInt(1)
			return
		}
	}
	c.ReplyInt(0)
}
