//go:build linux

package cached

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/anvilstack/anvil/pkg/resp"
)

// The event loops (event_loops > 0) serve connections as Redis does: a
// loop waits in epoll_wait (level-triggered), reads each ready connection
// once, runs the complete commands it brought inline and writes their
// replies with one write. A request costs one read and one write, with
// one epoll_wait shared by every connection ready at the same time, and
// no goroutine is parked and woken per request.
//
// A client that has to wait leaves its loop for good and gets a goroutine
// of its own, which then serves it exactly as with event_loops 0 (see
// detachSelf): a blocking command that blocks, a reply the socket cannot
// take at once (a slow reader), and every client at shutdown. The loop's
// goroutine that was running the client becomes the client's goroutine,
// and a new goroutine carries on the loop, so a wait never holds up the
// other clients of the loop.
//
// Only the loop's goroutine touches a loop client's socket and state.
// Other goroutines reach it through posted tasks (an eventfd wakes the
// loop): a new connection, queued push messages (Client.Push), a kill,
// the shutdown.

// reactorSupported says whether event_loops > 0 can be honoured.
const reactorSupported = true

// errAgain is what a loop connection's Read returns when the socket has
// nothing to read.
var errAgain = errors.New("resource temporarily unavailable")

// eventLoop is one epoll loop and the clients it serves.
type eventLoop struct {
	s    *Server
	epfd int
	efd  int // eventfd: posted tasks

	// Owned by the goroutine running the loop (one at a time).
	clients map[int]*Client // by fd
	events  [256]unix.EpollEvent
	n, pos  int     // events[pos:n] are still to handle
	running *Client // the client whose commands run now
	swept   time.Duration
	// writes are the clients whose replies wait for the end of the pass
	// over the ready connections (queueWrite).
	writes []*Client
	// spin: the loop polls for pollFor (event_loop_poll) before it
	// blocks (wait).
	spin    bool
	pollFor time.Duration

	mu     sync.Mutex
	tasks  []loopTask
	spare  []loopTask
	posted bool // the eventfd holds an unhandled wake-up
	dead   bool // the loop ended: tasks are refused
}

// loopConn is the socket of a client served by an event loop. Once the
// client leaves the loop (detach), every method goes to the net.Conn of
// its own goroutine.
type loopConn struct {
	fd           int
	l            *eventLoop
	laddr, raddr net.Addr
	fdClosed     atomic.Bool
	detached     atomic.Pointer[connBox]
}

type connBox struct{ net.Conn }

func (s *Server) startLoops(n int) error {
	for range n {
		l, err := newEventLoop(s)
		if err != nil {
			for _, o := range s.loops {
				o.closeFDs()
			}
			s.loops = nil
			return err
		}
		s.loops = append(s.loops, l)
	}
	for _, l := range s.loops {
		s.wg.Add(1)
		go l.run()
	}
	return nil
}

func newEventLoop(s *Server) (*eventLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create: %w", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(efd)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	return &eventLoop{s: s, epfd: epfd, efd: efd, clients: map[int]*Client{}, pollFor: s.cfg.EventLoopPoll}, nil
}

func (l *eventLoop) closeFDs() {
	_ = unix.Close(l.epfd)
	_ = unix.Close(l.efd)
}

// newLoopConn takes the socket away from Go's poller: the loop owns a
// duplicate of its descriptor, and conn is closed.
func newLoopConn(conn net.Conn) (*loopConn, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(f uintptr) { fd, derr = unix.Dup(int(f)) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, fmt.Errorf("dup: %w", derr)
	}
	unix.CloseOnExec(fd)
	lc := &loopConn{fd: fd, laddr: conn.LocalAddr(), raddr: conn.RemoteAddr()}
	_ = conn.Close() // the duplicate keeps the socket open, non-blocking
	return lc, nil
}

// pickLoop chooses the loop of a new connection (round robin).
func (s *Server) pickLoop() *eventLoop {
	return s.loops[int(s.nextLoop.Add(1)-1)%len(s.loops)]
}

// post queues a task for the loop and wakes it; false when the loop has
// ended.
func (l *eventLoop) post(t loopTask) bool {
	l.mu.Lock()
	if l.dead {
		l.mu.Unlock()
		return false
	}
	l.tasks = append(l.tasks, t)
	wake := !l.posted
	l.posted = true
	l.mu.Unlock()
	if wake {
		var one = [8]byte{1}
		_, _ = unix.Write(l.efd, one[:])
	}
	return true
}

// run is the loop. After detachSelf the goroutine running it becomes a
// client's and a new goroutine resumes run where it was.
func (l *eventLoop) run() {
	// The loop keeps its thread: unlocked, Go's scheduler moved it between
	// three or four threads under load (a preempted goroutine is taken by
	// whichever thread looks first), with the wake-ups that go with it.
	runtime.LockOSThread()
	for {
		for l.pos < l.n {
			ev := &l.events[l.pos]
			l.pos++
			fd := int(ev.Fd)
			if fd == l.efd {
				if !l.runTasks() {
					return
				}
				continue
			}
			c := l.clients[fd]
			if c == nil {
				continue
			}
			l.running = c
			keep := l.serveClient(c)
			if c.loop == nil {
				// c left the loop while its commands ran; this
				// goroutine is c's from now on, another runs the loop.
				l.s.serveDetached(c, keep)
				return
			}
			l.running = nil
			if !keep {
				l.drop(c)
			}
		}
		l.flushWrites()
		l.sweep()
		n, err := l.wait()
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			l.s.log.Error("epoll_wait", "err", err)
			n = 0
			time.Sleep(10 * time.Millisecond)
		}
		l.n, l.pos = n, 0
	}
}

// wait waits for events. Under load the next request is usually a few
// microseconds away: a loop that slept in epoll_wait then has to be woken
// by the client's write (a wake-up, and on a VM an inter-processor
// interrupt, that the writer pays for), and it did so a few thousand
// times a second at pipeline 16 where redis-server, slower to come back
// to its wait, almost never sleeps. So a loop whose last blocking wait
// ended within pollFor (event_loop_poll) polls (epoll_wait with a zero
// timeout, a raw system call that keeps the thread's P) for up to pollFor
// before it blocks; a loop whose clients are quieter blocks at once.
func (l *eventLoop) wait() (int, error) {
	if n, err := l.pollNow(); n != 0 || err != nil {
		return n, err
	}
	if l.spin && !l.s.evictorBusy() {
		deadline := l.s.mono() + l.pollFor
		for {
			if n, err := l.pollNow(); n != 0 || err != nil {
				return n, err
			}
			if l.s.mono() >= deadline {
				break
			}
		}
	}
	timeout := -1
	if len(l.clients) > 0 {
		timeout = 1000 // ms: the next sweep
	}
	start := l.s.mono()
	n, err := unix.EpollWait(l.epfd, l.events[:], timeout)
	l.spin = n > 0 && l.s.mono()-start < l.pollFor
	return n, err
}

// evictorBusy says whether the background evictor ran in the last 10 ms:
// a loop that spins then takes a core the evictor (and on a small
// machine the clients) need.
func (s *Server) evictorBusy() bool {
	return s.evicting.Load() || s.mono()-time.Duration(s.evictedAt.Load()) < 10*time.Millisecond
}

// pollNow is epoll_wait without waiting, as a raw system call (it never
// blocks, so the runtime need not hand the thread's P over).
func (l *eventLoop) pollNow() (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// rawRead, rawWrite and rawWritev are read(2), write(2) and writev(2) of
// a loop's non-blocking sockets as raw system calls: they never block, so
// the runtime need not know (no entersyscall/exitsyscall, and Go's
// sysmon does not hand the loop thread's P to another thread while the
// kernel copies).
func rawRead(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func rawWrite(fd int, b []byte) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func rawWritev(fd int, a, b []byte) (int, error) {
	var iov [2]unix.Iovec
	iov[0].Base = &a[0]
	iov[0].SetLen(len(a))
	iov[1].Base = &b[0]
	iov[1].SetLen(len(b))
	r, _, e := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), 2)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// runTasks runs the posted tasks; false when the loop has ended.
func (l *eventLoop) runTasks() bool {
	var buf [8]byte
	_, _ = unix.Read(l.efd, buf[:])
	l.mu.Lock()
	tasks := l.tasks
	l.tasks = l.spare[:0]
	l.posted = false
	l.mu.Unlock()
	for i, t := range tasks {
		switch t.kind {
		case taskAdd:
			l.add(t.c)
		case taskPush:
			l.writePushes(t.c)
		case taskKill:
			if c := t.c; c.loop == l && l.clients[c.lconn.fd] == c {
				l.drop(c)
			}
		case taskShutdown:
			l.shutdown(tasks[i+1:])
			runtime.UnlockOSThread()
			return false
		}
		tasks[i] = loopTask{}
	}
	l.spare = tasks[:0]
	return true
}

// add registers a new client with the loop.
func (l *eventLoop) add(c *Client) {
	fd := c.lconn.fd
	c.loop = l
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.s.log.Error("epoll_ctl add", "err", err, "client_id", c.id)
		c.loop = nil
		c.lconn.closeFD()
		l.s.dropClient(c)
		l.s.wg.Done()
		return
	}
	l.clients[fd] = c
	if c.killed.Load() {
		l.drop(c)
	}
}

// serveClient reads the client's socket once and runs what came; false
// means the connection must close.
func (l *eventLoop) serveClient(c *Client) bool {
	s := l.s
	if c.killed.Load() || c.closeAfter {
		return false
	}
	if !c.p.HasBuffer() {
		c.p.SetBuffer(*inPool.Get().(*[]byte))
	}
	// A read that filled the buffer may have left more behind (a
	// pipeline of big values): after running what it brought, read again
	// rather than after another epoll_wait, a few times at most.
	var err error
	for i := 0; i < 4; i++ {
		if c.outQueued {
			// Reading again: what the last read brought goes out first.
			if !c.flushLoop(false) {
				return false
			}
			if c.loop == nil {
				return true
			}
		}
		var n int
		c.p.Unauthenticated = !c.authed && s.authRequired()
		n, err = c.p.Fill(c.lconn)
		full := c.p.Full()
		if n > 0 {
			now := time.Now()
			c.now = now.UnixMilli()
			c.tick = now.Sub(s.started)
			c.lastUsed.Store(c.now)
			s.stats.netInput.Add(int64(n))
			if !c.processInput() {
				return false
			}
			if c.loop == nil {
				return true // detached: its own goroutine carries on
			}
		}
		if err != nil || !full || c.closeAfter || c.killed.Load() {
			break
		}
	}
	if err != nil && err != errAgain {
		if errors.Is(err, resp.ErrQueryBufferLimit) {
			s.log.Warn("closing client that reached max query buffer length", "client_id", c.id, "addr", c.lconn.raddr.String(), "limit", c.p.MaxQueryBuffer)
		} else if !errors.Is(err, io.EOF) {
			s.log.Debug("client read", "client_id", c.id, "err", err)
		}
		return false
	}
	return true
}

// sweep gives back the read buffers of clients idle for idleRelease, as
// with event_loops 0 (Redis frees the query buffer of a client idle for 2
// seconds). It runs about once a second.
func (l *eventLoop) sweep() {
	now := l.s.mono()
	if now-l.swept < time.Second {
		return
	}
	l.swept = now
	idle := time.Now().Add(-idleRelease).UnixMilli()
	for _, c := range l.clients {
		if c.p.HasBuffer() && c.p.Idle() && c.lastUsed.Load() <= idle {
			if b := c.p.TakeBuffer(); cap(b) == 16<<10 {
				inPool.Put(&b)
			}
			c.publishState()
		}
	}
}

// drop closes a loop client.
func (l *eventLoop) drop(c *Client) {
	fd := c.lconn.fd
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	delete(l.clients, fd)
	c.lconn.closeFD()
	l.s.dropClient(c)
	c.loop = nil
	l.s.wg.Done()
}

// convert moves c from the loop to a net.Conn served by Go's poller.
func (l *eventLoop) convert(c *Client) {
	lc := c.lconn
	if c.outQueued {
		// Its goroutine writes out first, then the pushes, as they were
		// queued after out.
		c.outQueued = false
		c.pushMu.Lock()
		if len(c.pending) > 0 {
			c.out = append(c.out, c.pending...)
			c.pending = c.pending[:0]
		}
		c.pushMu.Unlock()
	}
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, lc.fd, nil)
	delete(l.clients, lc.fd)
	var conn net.Conn
	f := os.NewFile(uintptr(lc.fd), "")
	if f == nil {
		conn = deadConn{lc}
	} else {
		var err error
		conn, err = net.FileConn(f) // a duplicate, in Go's poller
		if err != nil {
			l.s.log.Warn("closing client that could not leave its event loop", "client_id", c.id, "err", err)
			conn = deadConn{lc}
		}
		_ = f.Close()
	}
	lc.fdClosed.Store(true)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	c.writeMu.Lock()
	lc.detached.Store(&connBox{conn})
	c.writeMu.Unlock()
	c.pushMu.Lock()
	c.pushLoop = nil
	c.pushMu.Unlock()
	if c.killed.Load() {
		_ = conn.SetReadDeadline(time.Unix(1, 0))
	} else if l.s.closing.Load() {
		_ = conn.SetReadDeadline(time.Now().Add(shutdownReadGrace))
	}
	c.loop = nil
}

// detachSelf moves the client whose commands run now to a goroutine of
// its own: the calling goroutine becomes the client's, and a new one
// runs the loop on. Call it from the client's code, before it waits.
func (l *eventLoop) detachSelf(c *Client) {
	l.convert(c)
	l.running = nil
	runtime.UnlockOSThread() // this goroutine is c's now; the loop moves on
	go l.run()
}

// detachIdle moves a client that is not running to a goroutine of its
// own, which first writes the replies it still has.
func (l *eventLoop) detachIdle(c *Client) {
	l.convert(c)
	go l.s.serveDetached(c, true)
}

// serveDetached carries on serving a client that left its loop, in the
// goroutine-per-connection way (keep false: close it).
func (s *Server) serveDetached(c *Client, keep bool) {
	if !keep {
		s.dropClient(c)
		s.wg.Done()
		return
	}
	s.serve(c)
}

// shutdown hands every client to a goroutine of its own, which finishes
// what its client sent as with event_loops 0, and ends the loop. rest is
// what was posted after the shutdown.
func (l *eventLoop) shutdown(rest []loopTask) {
	l.mu.Lock()
	l.dead = true
	rest = append(rest, l.tasks...)
	l.tasks = nil
	l.mu.Unlock()
	for _, t := range rest {
		if t.kind == taskAdd {
			l.add(t.c)
		}
	}
	for _, c := range l.clients {
		l.detachIdle(c)
	}
	for _, t := range rest {
		if t.kind == taskPush {
			l.writePushes(t.c) // they left: their goroutines write
		}
	}
	l.closeFDs()
	l.s.wg.Done()
}

// writePushes writes the push messages queued for an idle loop client.
func (l *eventLoop) writePushes(c *Client) {
	c.pushMu.Lock()
	if c.pushLoop != l {
		// It left the loop meanwhile: its goroutine writes them.
		if len(c.pending) > 0 {
			c.pushMu.Unlock()
			go c.drainPush()
			return
		}
		c.pushing = false
		c.pushMu.Unlock()
		return
	}
	c.pushing = false
	c.pushMu.Unlock()
	if c.loop != l || l.clients[c.lconn.fd] != c || c.outQueued {
		return // gone, or flushWrites writes them after its replies
	}
	if !c.flushLoop(true) {
		l.drop(c)
	}
}

// queueWrite leaves the replies of the client whose input the loop has
// just run to flushWrites, as Redis writes every reply of a pass over the
// ready connections before it waits again (beforeSleep): the clients get
// their replies in a burst, and the next wait finds more of them ready.
// Push messages queued so far go before the replies (as flush orders
// them); those queued from now on (by the commands of the next clients)
// go after.
func (l *eventLoop) queueWrite(c *Client) {
	if c.outQueued || len(c.out) == 0 {
		return
	}
	c.pushMu.Lock()
	if len(c.pending) > 0 {
		merged := append(c.pending, c.out...)
		c.pending = c.out[:0]
		c.out = merged
	}
	c.pushMu.Unlock()
	c.outQueued = true
	l.writes = append(l.writes, c)
}

// flushWrites writes the replies queueWrite left, before the loop waits.
func (l *eventLoop) flushWrites() {
	for i, c := range l.writes {
		l.writes[i] = nil
		if !c.outQueued || c.loop != l || l.clients[c.lconn.fd] != c {
			continue // written already, or the client left or closed
		}
		if !c.flushLoop(false) {
			l.drop(c)
		}
	}
	l.writes = l.writes[:0]
}

// flushLoop writes a loop client's pending pushes and replies without
// blocking: the pushes first, or after the replies if these were queued
// (queueWrite). What the socket does not take is written by the client's
// own goroutine after a detach. force writes pushes even with no reply.
func (c *Client) flushLoop(force bool) bool {
	pushesAfter := c.outQueued
	c.outQueued = false
	if len(c.out) == 0 && !force {
		return true
	}
	c.pushMu.Lock()
	pushed := c.pending
	c.pending = nil
	c.pushMu.Unlock()
	if len(c.out) == 0 && len(pushed) == 0 {
		c.pushMu.Lock()
		if c.pending == nil {
			c.pending = pushed
		}
		c.pushMu.Unlock()
		return true
	}
	if len(c.out) > 0 {
		c.flushes++
	}
	first, second := pushed, c.out
	if pushesAfter {
		first, second = c.out, pushed
	}
	fd := c.lconn.fd
	total := len(first) + len(second)
	var n int
	var err error
	for {
		switch {
		case len(first) > 0 && len(second) > 0:
			n, err = rawWritev(fd, first, second)
		case len(first) > 0:
			n, err = rawWrite(fd, first)
		default:
			n, err = rawWrite(fd, second)
		}
		if err != unix.EINTR {
			break
		}
	}
	n = max(n, 0)
	c.srv.stats.netOutput.Add(int64(n))
	if n == total {
		c.pushMu.Lock()
		if c.pending == nil {
			c.pending = pushed[:0]
		}
		c.pushMu.Unlock()
		if cap(c.out) > outKeepCap {
			c.out = make([]byte, 0, 16<<10)
		} else {
			c.out = c.out[:0]
		}
		return true
	}
	if err != nil && err != unix.EAGAIN {
		return false
	}
	// The socket is full: keep the rest, in order, and let a goroutine
	// of the client's own wait for the reader.
	var rest []byte
	if n < len(first) {
		rest = append(append(rest, first[n:]...), second...)
	} else {
		rest = append(rest, second[n-len(first):]...)
	}
	l := c.loop
	if l.running == c {
		c.out = rest
		l.detachSelf(c)
		return c.flush()
	}
	// An idle client (pushes, or replies queueWrite left): its goroutine waits
	// for input as usual while drainPush waits for the reader, as with
	// event_loops 0 (so a kill stops both).
	c.out = c.out[:0]
	l.convert(c)
	c.pushMu.Lock()
	c.pending = append(rest, c.pending...)
	start := !c.pushing
	c.pushing = true
	c.pushMu.Unlock()
	if start {
		go c.drainPush()
	}
	go c.srv.serveDetached(c, true)
	return true
}

// leaveLoop moves the running client off its loop before it waits (a
// blocking command); a no-op for a client with its own goroutine.
func (c *Client) leaveLoop() {
	if c.loop != nil {
		c.loop.detachSelf(c)
	}
}

// Read reads what the socket holds, without waiting (errAgain: nothing).
func (lc *loopConn) Read(b []byte) (int, error) {
	if d := lc.detached.Load(); d != nil {
		return d.Read(b)
	}
	for {
		n, err := rawRead(lc.fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, errAgain
		case err != nil:
			return 0, err
		case n == 0 && len(b) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// Write is used once the client has left its loop (the loop itself
// writes with flushLoop).
func (lc *loopConn) Write(b []byte) (int, error) {
	if d := lc.detached.Load(); d != nil {
		return d.Write(b)
	}
	return 0, errors.New("write to a loop connection outside its loop")
}

// Close closes the connection: a loop connection is killed through its
// loop, which closes the socket.
func (lc *loopConn) Close() error {
	if d := lc.detached.Load(); d != nil {
		return d.Close()
	}
	return nil
}

func (lc *loopConn) closeFD() {
	if lc.fdClosed.CompareAndSwap(false, true) {
		_ = unix.Close(lc.fd)
	}
}

func (lc *loopConn) LocalAddr() net.Addr  { return lc.laddr }
func (lc *loopConn) RemoteAddr() net.Addr { return lc.raddr }

func (lc *loopConn) SetDeadline(t time.Time) error {
	if d := lc.detached.Load(); d != nil {
		return d.SetDeadline(t)
	}
	return nil
}

// SetReadDeadline: a loop connection is never waited on; the deadlines
// that stop a read (a kill, the shutdown) reach the loop as tasks.
func (lc *loopConn) SetReadDeadline(t time.Time) error {
	if d := lc.detached.Load(); d != nil {
		return d.SetReadDeadline(t)
	}
	return nil
}

func (lc *loopConn) SetWriteDeadline(t time.Time) error {
	if d := lc.detached.Load(); d != nil {
		return d.SetWriteDeadline(t)
	}
	return nil
}

// SyscallConn is the detached connection's (for its goroutine's waits).
func (lc *loopConn) SyscallConn() (syscall.RawConn, error) {
	if d := lc.detached.Load(); d != nil {
		if sc, ok := d.Conn.(syscall.Conn); ok {
			return sc.SyscallConn()
		}
	}
	return nil, errors.New("connection served by an event loop")
}

// kill makes the loop close the client (the goroutine's read returns at
// once after a detach).
func (lc *loopConn) kill(c *Client) {
	if d := lc.detached.Load(); d != nil {
		_ = d.SetReadDeadline(time.Unix(1, 0))
		return
	}
	lc.l.post(loopTask{kind: taskKill, c: c})
}

// deadConn stands for a connection that could not leave its loop: every
// call fails, so its client closes.
type deadConn struct{ lc *loopConn }

func (d deadConn) Read([]byte) (int, error)         { return 0, net.ErrClosed }
func (d deadConn) Write([]byte) (int, error)        { return 0, net.ErrClosed }
func (d deadConn) Close() error                     { return nil }
func (d deadConn) LocalAddr() net.Addr              { return d.lc.laddr }
func (d deadConn) RemoteAddr() net.Addr             { return d.lc.raddr }
func (d deadConn) SetDeadline(time.Time) error      { return nil }
func (d deadConn) SetReadDeadline(time.Time) error  { return nil }
func (d deadConn) SetWriteDeadline(time.Time) error { return nil }

// loopConnFD is the descriptor of a loop connection.
func loopConnFD(conn net.Conn) (int, bool) {
	if lc, ok := conn.(*loopConn); ok {
		return lc.fd, true
	}
	return 0, false
}
