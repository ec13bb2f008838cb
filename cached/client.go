package cached

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/pkg/resp"
)

const (
	outFlushAt   = 64 << 10 // flush replies mid-batch once this much is buffered
	outKeepCap   = 64 << 10 // a reply buffer grown past this is dropped after a flush
	pushLimit    = 32 << 20 // pending push bytes before a slow client is dropped
	writeTimeout = 30 * time.Second
)

// Client is one connection and its state. Its fields are owned by the
// connection's goroutine, except where marked otherwise.
type Client struct {
	srv  *Server
	conn net.Conn
	id   int64

	p       *resp.Parser // from parserPool
	out     []byte       // replies not yet written
	scratch []byte       // for handlers that build a reply before its length is known
	keysBuf []string     // for KEYS and SCAN

	proto  resp.Proto
	db     *store.DB
	authed bool
	now    int64         // Unix ms of the batch of commands being run (Redis's mstime)
	tick   time.Duration // monotonic time when the current command started
	cmd    *Command
	failed bool // the current command replied with an error
	keyPos []int
	ls     store.LockSet
	inExec bool // running EXEC's commands: every needed shard is locked
	multi  *multiState
	watch  store.Watch

	noEvict, noTouch bool
	closeAfter       bool // QUIT, protocol error, CLIENT KILL of itself
	// CLIENT REPLY OFF/SKIP: replies are dropped.
	replyOff, replySkip, replySkipNext bool
	flushes                            int // counts flushes, so a drop knows where its reply starts

	created  time.Time
	fdNum    int
	state    clientState  // published for CLIENT LIST once per batch
	lastUsed atomic.Int64 // Unix ms of the last read (for timeout and CLIENT LIST idle)
	lastCmd  atomic.Pointer[string]
	name     atomic.Pointer[string]
	dbIndex  atomic.Int64 // for CLIENT LIST, read by other goroutines
	killed   atomic.Bool
	// exemptIdle spares the client from the idle timeout (subscribers and
	// blocked clients, as in Redis); families set it.
	exemptIdle atomic.Bool

	// Output written by other goroutines (push messages): appended under
	// pushMu and written by one drain goroutine at a time. writeMu orders
	// every write to conn.
	writeMu sync.Mutex
	pushMu  sync.Mutex
	pending []byte
	pushing bool

	// Blocking commands (blocking.go): wake is closed and replaced by
	// Wake; block is the wait the running handler asked for.
	blockMu     sync.Mutex
	wake        chan struct{}
	block       *blockReq // set by Block: the dispatcher must wait
	blockActive *blockReq // the registered wait while its command re-runs
	// readyKeys are the keys signalled ready for this blocked client, in
	// the order they were signalled (guarded by Server.blocking.mu).
	readyKeys     []string
	blockDeadline time.Time
	blockedNow    atomic.Bool
	monitoring    atomic.Bool  // MONITOR (monitor.go)
	unblock       atomic.Int32 // a CLIENT UNBLOCK request (unblockTimeout, unblockError)

	// heldInput is what the connection sent while the client was blocked
	// (blocking.go), fed to the parser once the command is done.
	heldInput []byte

	// unchanged: the running write command changed nothing (Unchanged).
	unchanged bool

	// ext holds families' per-client state (subscriptions, tracking).
	ext map[any]any

	// Event loops (reactor_linux.go): loop is the loop serving the
	// client, nil once it has a goroutine of its own (owned by whoever
	// runs the client's code); lconn its socket; pushLoop, under pushMu,
	// the loop that writes its push messages.
	loop     *eventLoop
	lconn    *loopConn
	pushLoop *eventLoop
	// outQueued: out waits in loop.writes to be written before the
	// loop's next wait; push messages queued since go after it.
	outQueued bool
}

// multiState is a MULTI in progress.
type multiState struct {
	cmds    []queued
	dirty   bool // a command failed to queue: EXEC answers EXECABORT
	keysAll bool // a queued command needs the whole keyspace locked
	flags   Flags
}

type queued struct {
	cmd  *Command
	args [][]byte // copied out of the read buffer
}

// Buffers are pooled across connections; the Client itself is not (a
// push in flight may still hold it after its connection ends).
var (
	parserPool = sync.Pool{New: func() any { return new(resp.Parser) }}
	outPool    = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}
	inPool     = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}
)

// An idle client gives its read buffer back, as Redis frees the query
// buffer of a client idle for 2 seconds: a read deadline (moved at most
// once a second while the client is busy) says when, and the connection
// then waits for its next request without a buffer.
const (
	idleRelease     = 2 * time.Second
	idleReleaseSlop = time.Second
)

// ID is the client's CLIENT ID.
func (c *Client) ID() int64 { return c.id }

// DB is the client's selected database.
func (c *Client) DB() *store.DB { return c.db }

// Keyspace is the server's keyspace.
func (c *Client) Keyspace() *store.Keyspace { return c.srv.ks }

// Server is the server the client is connected to.
func (c *Client) Server() *Server { return c.srv }

// Now is the time of the current command in Unix milliseconds.
func (c *Client) Now() int64 { return c.now }

// InExec reports whether the command runs inside EXEC (a blocking command
// must then not block).
func (c *Client) InExec() bool { return c.inExec }

// NoTouch reports CLIENT NO-TOUCH: reads must not update LRU/LFU data.
func (c *Client) NoTouch() bool { return c.noTouch }

// LookupFlags are the store flags reads of this client use.
func (c *Client) LookupFlags() store.LookupFlags {
	if c.noTouch {
		return store.NoTouch
	}
	return 0
}

// Lookup reads key in the client's database (its shard is locked by the
// dispatcher), honouring CLIENT NO-TOUCH and counting a hit or a miss.
func (c *Client) Lookup(key []byte) *store.Entry {
	e := c.db.Lookup(key, c.now, c.LookupFlags())
	if e == nil {
		c.srv.notifyMiss(c.db.ID(), key)
	}
	return e
}

// LookupWrite reads key for a command that will change it: no hit or
// miss is counted, as in Redis.
func (c *Client) LookupWrite(key []byte) *store.Entry {
	return c.db.Lookup(key, c.now, store.NoStats)
}

func (s *Server) newClient(conn net.Conn) *Client {
	c := &Client{}
	c.p = parserPool.Get().(*resp.Parser)
	c.out = (*outPool.Get().(*[]byte))[:0]
	c.srv = s
	c.conn = conn
	c.id = s.nextID.Add(1)
	c.ls.Owner = c
	c.proto = resp.Proto2
	c.db = s.ks.DB(0)
	c.dbIndex.Store(0)
	c.authed = false
	c.created = time.Now()
	c.fdNum = connFD(conn)
	c.state.multi.Store(-1)
	c.state.proto.Store(2)
	c.lastUsed.Store(c.created.UnixMilli())
	empty := ""
	c.lastCmd.Store(&empty)
	c.name.Store(&empty)
	c.p.MaxBulkLen = s.protoMaxBulkLen.Load()
	c.p.MaxQueryBuffer = int(s.queryBufferLimit.Load())
	c.wake = make(chan struct{})
	return c
}

// release returns the client's buffers to the pools.
func (c *Client) release() {
	if c.p.Idle() {
		if b := c.p.TakeBuffer(); cap(b) == 16<<10 {
			inPool.Put(&b)
		}
	}
	c.p.Reset()
	c.p.Unauthenticated = false
	parserPool.Put(c.p)
	c.p = nil
	if cap(c.out) <= outKeepCap {
		out := c.out[:0]
		outPool.Put(&out)
	}
	c.out, c.scratch = nil, nil
}

// serve runs the connection until it closes.
func (s *Server) serve(c *Client) {
	defer s.wg.Done()
	defer s.dropClient(c)
	if !c.flush() { // what a client that left its event loop still had
		return
	}
	rc := c.rawConn()
	var idleAt int64 // Unix ms when the read deadline releases the buffer
	for !c.closeAfter && !c.killed.Load() {
		c.p.Unauthenticated = !c.authed && s.authRequired()
		if !c.p.HasBuffer() {
			if rc != nil && !c.waitReadable(rc) {
				break
			}
			c.p.SetBuffer(*inPool.Get().(*[]byte))
		}
		if rc != nil && idleAt-c.now < idleReleaseSlop.Milliseconds() {
			// c.now is the last batch's time: one timer update a second
			// at most while the client is busy.
			idleAt = max(c.now, time.Now().UnixMilli()) + idleRelease.Milliseconds()
			_ = c.conn.SetReadDeadline(time.UnixMilli(idleAt))
			// Shutdown or a kill may have set its own deadline meanwhile.
			if c.killed.Load() {
				_ = c.conn.SetReadDeadline(time.Unix(1, 0))
			} else if s.closing.Load() {
				_ = c.conn.SetReadDeadline(time.Now().Add(shutdownReadGrace))
			}
		}
		n, err := c.p.Fill(c.conn)
		if n > 0 {
			// One wall-clock and one monotonic reading per batch; each
			// command's end reading starts the next one.
			now := time.Now() // its monotonic part starts the first command too
			c.now = now.UnixMilli()
			c.tick = now.Sub(s.started)
			c.lastUsed.Store(c.now)
			s.stats.netInput.Add(int64(n))
			if !c.processInput() {
				break
			}
		}
		if err != nil && isTimeout(err) && n == 0 && rc != nil && !s.closing.Load() && !c.killed.Load() && c.p.Idle() {
			// Idle for idleRelease: give the read buffer back and wait
			// for the next request without one.
			if b := c.p.TakeBuffer(); cap(b) == 16<<10 {
				inPool.Put(&b)
			}
			idleAt = 0
			_ = c.conn.SetReadDeadline(time.Time{})
			c.publishState()
			continue
		}
		if err != nil {
			if errors.Is(err, resp.ErrQueryBufferLimit) {
				s.log.Warn("closing client that reached max query buffer length", "client_id", c.id, "addr", c.conn.RemoteAddr().String(), "limit", c.p.MaxQueryBuffer)
			} else if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
				s.log.Debug("client read", "client_id", c.id, "err", err)
			}
			break
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// rawConn is the connection's syscall.RawConn when it has one (TCP).
func (c *Client) rawConn() syscall.RawConn {
	sc, ok := c.conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// waitReadable waits, holding no buffer, until the connection has data (or
// is closed or fails); false means the connection is done.
func (c *Client) waitReadable(rc syscall.RawConn) bool {
	var one [1]byte
	ready := false
	err := rc.Read(func(fd uintptr) bool {
		// Peek so that a request that is already there is seen: the
		// poller only reports new data.
		n, _, err := syscall.Recvfrom(int(fd), one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			return false
		}
		ready = n > 0 && err == nil
		return true
	})
	return err == nil && ready
}

// processInput runs every complete request in the read buffer, then
// writes the replies; false means the connection must close.
func (c *Client) processInput() bool {
	for {
		args, err := c.p.Next()
		if err != nil {
			var pe *resp.ProtocolError
			if errors.As(err, &pe) {
				c.out = resp.AppendError(c.out, "ERR "+pe.Msg)
				c.srv.log.Debug("protocol error", "client_id", c.id, "addr", c.conn.RemoteAddr().String(), "err", err)
			}
			c.flush()
			return false
		}
		if args == nil {
			break
		}
		c.execute(args)
		if c.closeAfter {
			break
		}
		if c.heldInput != nil {
			in := c.heldInput
			c.heldInput = nil
			if err := c.p.Feed(in); err != nil {
				c.srv.log.Warn("closing client that reached max query buffer length", "client_id", c.id, "addr", c.conn.RemoteAddr().String(), "limit", c.p.MaxQueryBuffer)
				c.flush()
				return false
			}
		}
		if len(c.out) >= outFlushAt {
			if !c.flush() {
				return false
			}
		}
	}
	for _, h := range c.srv.hooks.AfterBatch {
		h(c)
	}
	c.publishState()
	if c.loop != nil && !c.closeAfter {
		c.loop.queueWrite(c)
		return true
	}
	return c.flush() && !c.closeAfter
}

// flush writes the buffered replies.
func (c *Client) flush() bool {
	if len(c.out) == 0 {
		return true
	}
	if c.loop != nil {
		return c.flushLoop(false)
	}
	c.flushes++
	c.writeMu.Lock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	// Push messages queued before these replies go out first, so that a
	// push is ordered with the replies as it was queued (an eviction's
	// invalidation before the reply of the command that evicted).
	c.pushMu.Lock()
	pushed := c.pending
	c.pending = nil
	c.pushMu.Unlock()
	var n int64
	var err error
	if len(pushed) > 0 {
		bufs := net.Buffers{pushed, c.out}
		n, err = bufs.WriteTo(c.conn)
		c.pushMu.Lock()
		if c.pending == nil {
			c.pending = pushed[:0]
		}
		c.pushMu.Unlock()
	} else {
		var m int
		m, err = c.conn.Write(c.out)
		n = int64(m)
	}
	c.writeMu.Unlock()
	c.srv.stats.netOutput.Add(n)
	if cap(c.out) > outKeepCap {
		c.out = make([]byte, 0, 16<<10)
	} else {
		c.out = c.out[:0]
	}
	return err == nil
}

// Push queues an out-of-band message (a pub/sub message, a tracking
// invalidation) for the client. It may be called from any goroutine,
// including with a shard locked: it never blocks on the network. A client
// that falls more than 32 MB behind is disconnected.
func (c *Client) Push(msg []byte) {
	c.pushMu.Lock()
	if len(c.pending)+len(msg) > pushLimit {
		c.pushMu.Unlock()
		c.srv.log.Warn("closing client over the pub/sub output limit", "client_id", c.id)
		c.Kill()
		return
	}
	c.pending = append(c.pending, msg...)
	start := !c.pushing
	c.pushing = true
	l := c.pushLoop
	c.pushMu.Unlock()
	if start {
		if l == nil || !l.post(loopTask{kind: taskPush, c: c}) {
			go c.drainPush()
		}
	}
}

// drainPush writes the queued push messages. It takes them with writeMu
// held, as flush does, so that whoever writes takes the oldest.
func (c *Client) drainPush() {
	var buf []byte
	for {
		c.writeMu.Lock()
		c.pushMu.Lock()
		if len(c.pending) == 0 {
			c.pushing = false
			c.pushMu.Unlock()
			c.writeMu.Unlock()
			return
		}
		buf, c.pending = c.pending, buf[:0]
		c.pushMu.Unlock()
		_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		n, err := c.conn.Write(buf)
		c.writeMu.Unlock()
		c.srv.stats.netOutput.Add(int64(n))
		if err != nil {
			c.pushMu.Lock()
			c.pending = c.pending[:0]
			c.pushing = false
			c.pushMu.Unlock()
			return
		}
	}
}

// Kill disconnects the client from any goroutine: its read returns and
// its goroutine cleans up.
func (c *Client) Kill() {
	if c.killed.CompareAndSwap(false, true) {
		if c.lconn != nil {
			c.lconn.kill(c)
		} else {
			_ = c.conn.SetReadDeadline(time.Unix(1, 0))
		}
		c.Wake()
	}
}

// Wake interrupts a blocking wait of the client (a blocking pop whose key
// got data, CLIENT UNBLOCK, a kill). Safe from any goroutine.
func (c *Client) Wake() {
	c.blockMu.Lock()
	close(c.wake)
	c.wake = make(chan struct{})
	c.blockMu.Unlock()
}

// WakeChan returns the channel the next Wake closes; a blocking command
// takes it before it releases its locks and waits on it after.
func (c *Client) WakeChan() <-chan struct{} {
	c.blockMu.Lock()
	defer c.blockMu.Unlock()
	return c.wake
}

// execute runs one request and applies CLIENT REPLY OFF/SKIP to its reply.
func (c *Client) execute(args [][]byte) {
	mark, flushes := len(c.out), c.flushes
	c.dispatch(args)
	if c.replyOff || c.replySkip {
		if c.flushes != flushes {
			mark = 0
		}
		c.out = c.out[:mark]
	}
	c.replySkip = false
	if c.replySkipNext {
		c.replySkip, c.replySkipNext = true, false
	}
}

// dispatch is Redis's processCommand: checks, then queue or call.
func (c *Client) dispatch(args [][]byte) {
	s := c.srv
	cmd := s.table.lookup(args[0])
	if cmd == nil {
		c.rejectUnknown(args)
		return
	}
	if cmd.subs != nil {
		if len(args) < 2 {
			c.cmd = cmd
			c.reject("ERR wrong number of arguments for '" + cmd.fullName + "' command")
			return
		}
		sub := cmd.subs[string(bytes.ToLower(args[1]))]
		if sub == nil {
			c.reject(fmt.Sprintf("ERR unknown subcommand '%.128s'. Try %s HELP.", args[1], bytes.ToUpper(args[0])))
			return
		}
		cmd = sub
	}
	c.cmd = cmd
	if (cmd.Arity > 0 && cmd.Arity != len(args)) || len(args) < -cmd.Arity {
		c.reject("ERR wrong number of arguments for '" + cmd.fullName + "' command")
		return
	}
	if !c.authed && s.authRequired() && cmd.Flags&FlagNoAuth == 0 {
		c.reject(ErrNoAuth)
		return
	}
	if c.multi != nil && cmd.Flags&FlagNoMulti != 0 {
		c.reject("ERR Command not allowed inside a transaction")
		return
	}
	for _, h := range s.hooks.Intercept {
		if h(c, cmd, args) {
			return
		}
	}
	if mm := s.ks.MaxMemory(); mm > 0 && !c.noEvict {
		ok := s.evict(mm, c.now, c.p.Pending())
		denyOOM := cmd.Flags&FlagDenyOOM != 0 || (cmd.Name == "exec" && c.multi != nil && c.multi.flags&FlagDenyOOM != 0)
		// Queuing in MULTI takes memory too: over the limit only EXEC,
		// DISCARD, QUIT and RESET go through, as in Redis.
		if c.multi != nil && !denyOOM {
			switch cmd.fullName {
			case "exec", "discard", "quit", "reset":
			default:
				denyOOM = true
			}
		}
		if !ok && denyOOM && s.ks.OverLimit() {
			c.reject(ErrOOM)
			return
		}
	}
	if c.multi != nil && !cmd.runsInMulti() {
		c.queue(cmd, args)
		return
	}
	c.call(cmd, args)
}

// runsInMulti: the commands that act at once inside MULTI.
func (cmd *Command) runsInMulti() bool {
	switch cmd.fullName {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return true
	}
	return false
}

// Reject replies an error for a command that does not run (an Intercept
// hook refusing it); inside MULTI it also dooms the transaction
// (EXECABORT), as in Redis.
func (c *Client) Reject(msg string) { c.reject(msg) }

func (c *Client) reject(msg string) {
	if c.multi != nil && c.cmd != nil && c.cmd.fullName == "exec" {
		// A refused EXEC (OOM) aborts the transaction, saying why.
		c.discardMulti()
		c.ReplyError("EXECABORT Transaction discarded because of: " + msg)
		c.cmd.stats.rejected.Add(1)
		return
	}
	c.ReplyError(msg)
	if c.multi != nil {
		c.multi.dirty = true
	}
	if c.cmd != nil && c.cmd.stats != nil {
		c.cmd.stats.rejected.Add(1)
	}
}

func (c *Client) rejectUnknown(args [][]byte) {
	var b bytes.Buffer
	for _, a := range args[1:] {
		if b.Len() >= 128 {
			break
		}
		n := min(len(a), 128-b.Len())
		fmt.Fprintf(&b, "'%s' ", a[:n])
	}
	name := args[0]
	if len(name) > 128 {
		name = name[:128]
	}
	c.cmd = nil
	c.reject(fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", name, b.Bytes()))
}

// queue stores a command for EXEC.
func (c *Client) queue(cmd *Command, args [][]byte) {
	cp := make([][]byte, len(args))
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	for i, a := range args {
		buf = append(buf, a...)
		cp[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	c.multi.cmds = append(c.multi.cmds, queued{cmd, cp})
	c.multi.flags |= cmd.Flags
	if cmd.Flags&FlagKeyspace != 0 || cmd.Lock != nil {
		c.multi.keysAll = true
	}
	c.out = append(c.out, resp.Queued...)
}

// call runs cmd with its keys locked, and records its statistics.
func (c *Client) call(cmd *Command, args [][]byte) {
	c.failed = false
	if *c.lastCmd.Load() != cmd.fullName {
		c.lastCmd.Store(&cmd.fullName)
	}
	c.lock(cmd, args)
	c.runHandler(cmd, args)
	c.unlock()
	if c.block != nil {
		c.waitBlocked(cmd, args)
	}
	c.settle()
	for _, h := range c.srv.hooks.AfterCommand {
		h(c, cmd)
	}
	c.account(cmd, args)
	if c.srv.monitors.n.Load() > 0 {
		c.srv.feedMonitors(c, cmd, args)
	}
}

// Unchanged records that the running write command changed nothing
// (SETBIT writing the bit already there): like Redis, it then does not
// count as a change for rdb_changes_since_last_save and the save rules.
func (c *Client) Unchanged() { c.unchanged = true }

// Ext returns the family state stored under key for this client, nil if
// none. Only the client's own goroutine may use Ext and SetExt.
func (c *Client) Ext(key any) any { return c.ext[key] }

// SetExt stores family state under key (use an unexported key type, as
// with context.WithValue); nil deletes it.
func (c *Client) SetExt(key, v any) {
	if v == nil {
		delete(c.ext, key)
		return
	}
	if c.ext == nil {
		c.ext = map[any]any{}
	}
	c.ext[key] = v
}

// lock takes the shards cmd's keys need, unless EXEC holds them already.
func (c *Client) lock(cmd *Command, args [][]byte) {
	if c.inExec || cmd.Flags&FlagKeyspace != 0 {
		return
	}
	if cmd.Lock != nil {
		cmd.Lock(c, args, &c.ls)
		c.ls.Lock()
		return
	}
	c.ls.ReadOnly = cmd.Flags&(FlagReadOnly|FlagWrite) == FlagReadOnly
	c.keyPos = cmd.keyPositions(args, c.keyPos[:0])
	switch len(c.keyPos) {
	case 0:
	case 1:
		c.ls.Add(c.db, args[c.keyPos[0]])
		c.ls.Lock()
	default:
		for _, i := range c.keyPos {
			c.ls.Add(c.db, args[i])
		}
		c.ls.Lock()
	}
}

func (c *Client) unlock() {
	if !c.inExec {
		c.ls.Unlock()
	}
}

// runHandler calls the handler; a panic becomes an error reply (the
// caller still unlocks).
func (c *Client) runHandler(cmd *Command, args [][]byte) {
	defer c.recoverPanic(cmd)
	cmd.Handler(c, args)
	for _, h := range c.srv.hooks.Executed {
		h(c, cmd, args)
	}
}

// recoverPanic turns a handler panic into an error reply and a closed
// connection, with the stack in the log; the locks are released by the
// caller as usual, so one bad command cannot wedge the server.
func (c *Client) recoverPanic(cmd *Command) {
	if r := recover(); r != nil {
		c.srv.log.Error("command panicked", "cmd", cmd.fullName, "client_id", c.id, "err", fmt.Sprint(r), "stack", string(debug.Stack()))
		c.ReplyError("ERR internal error")
		c.closeAfter = true
	}
}

// account records a finished command for INFO commandstats, SLOWLOG and
// the metrics. Its duration runs from the end of the previous command of
// the batch (or the batch's start): one clock reading per command.
func (c *Client) account(cmd *Command, args [][]byte) {
	end := c.srv.mono()
	d := end - c.tick
	c.tick = end
	st := cmd.stats
	st.record(d)
	if c.failed {
		st.failed.Add(1)
	}
	if c.unchanged {
		if !c.failed {
			st.unchanged.Add(1)
		}
		c.unchanged = false
	}
	c.srv.slowlog.maybeAdd(c, args, d)
	if ms := d.Milliseconds(); ms > 0 {
		ev := "command"
		if cmd.Flags&FlagFast != 0 {
			ev = "fast-command"
		}
		c.srv.latency.add(ev, time.Now().Unix(), ms)
	}
}

// LockDB locks every shard of db for a FlagKeyspace command (a no-op
// inside EXEC, which holds them); pair it with UnlockDB.
func (c *Client) LockDB(db *store.DB) {
	if c.inExec {
		return
	}
	c.ls.AddDB(db)
	c.ls.Lock()
}

// UnlockDB undoes LockDB.
func (c *Client) UnlockDB() {
	if !c.inExec {
		c.ls.Unlock()
	}
}

// LockAll locks every shard of every database (FLUSHALL, SWAPDB), a no-op
// inside EXEC; pair it with UnlockDB.
func (c *Client) LockAll() {
	if c.inExec {
		return
	}
	c.ls.AddAll(c.srv.ks)
	c.ls.Lock()
}

// LockShard locks one shard for a FlagKeyspace command that walks shards
// one at a time; a no-op inside EXEC.
func (c *Client) LockShard(sh *store.Shard) {
	if !c.inExec {
		sh.Lock()
	}
}

// UnlockShard undoes LockShard.
func (c *Client) UnlockShard(sh *store.Shard) {
	if !c.inExec {
		sh.Unlock()
	}
}

// SelectDB switches the client to database i.
func (c *Client) SelectDB(i int) {
	c.db = c.srv.ks.DB(i)
	c.dbIndex.Store(int64(i))
}

// Name is the client's CLIENT SETNAME name.
func (c *Client) Name() string { return *c.name.Load() }

// LookupKind finds key in the client's database for a command of a value
// family. It returns (nil, true) when the key is missing, (e, true) when
// it holds kind, and (nil, false) after replying WRONGTYPE when it holds
// another kind. write selects LookupWrite's semantics (no hit/miss
// counted) over Lookup's.
func (c *Client) LookupKind(key []byte, kind store.Kind, write bool) (*store.Entry, bool) {
	var e *store.Entry
	if write {
		e = c.LookupWrite(key)
	} else {
		e = c.Lookup(key)
	}
	if e != nil && e.Kind() != kind {
		c.ReplyError(ErrWrongType)
		return nil, false
	}
	return e, true
}
