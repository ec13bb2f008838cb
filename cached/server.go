package cached

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/pkg/config"
	"github.com/anvilstack/anvil/pkg/daemon"
)

// Spec is cached's daemon specification.
func Spec() *daemon.Spec[Config, *Config] {
	return &daemon.Spec[Config, *Config]{
		Name:     "cached",
		Summary:  "a Redis-compatible cache server (RESP2/RESP3)",
		Defaults: DefaultConfig,
		Flags: []config.Flag[Config]{
			config.String("requirepass", "password clients must AUTH with", func(c *Config) *string { return &c.RequirePass }),
			config.String("maxmemory-policy", "eviction `policy` when maxmemory is reached", func(c *Config) *string { return &c.MaxMemoryPolicy }),
			config.Int("event-loops", "epoll event `loops` serving connections (0 = a goroutine per connection)", func(c *Config) *int { return &c.EventLoops }),
			config.Int("threads", "OS `threads` running Go code (GOMAXPROCS; 0 = one per CPU)", func(c *Config) *int { return &c.Threads }),
			{Name: "maxmemory", Usage: "memory `limit` for keys and values (64mb, 1gb; 0 = none)", Set: func(c *Config, v string) error {
				n, err := ParseMemory(v)
				c.MaxMemory = ByteSize(n)
				return err
			}},
		},
		New: func(cfg Config, env daemon.Env) (daemon.Service, error) { return New(cfg, env) },
	}
}

// Hooks are the points where command families that keep server-wide
// state plug in. A family appends its functions during setup (see
// Server.setupFamilies); the core calls every one. Nothing may be added
// after Start.
type Hooks struct {
	// Intercept runs before a command executes (after arity, AUTH and
	// MULTI checks). It returns true when it has replied itself: a RESP2
	// client in subscribed mode refused a command, or PING answered as a
	// subscriber. The first hook that returns true wins.
	Intercept []func(c *Client, cmd *Command, args [][]byte) bool
	// Publish delivers a message on a pub/sub channel and returns the
	// receiver count; keyspace notifications use it. One family owns it.
	Publish func(channel, message []byte) int
	// KeyModified is called after any change to a key, with its shard
	// locked (client-side caching invalidates here). key is nil when a
	// whole database changed (FLUSHDB, FLUSHALL, SWAPDB).
	KeyModified []func(db int, key []byte)
	// Executed runs after every run of a command's handler (a command
	// on its own, each command of an EXEC, each run of a woken blocking
	// command) with the keys it declared still locked: client tracking
	// remembers there the keys a read-only command read.
	Executed []func(c *Client, cmd *Command, args [][]byte)
	// AfterCommand runs once a command that ran (EXEC with all its
	// commands, a blocking command once served) has written its reply and
	// released its locks: client tracking sends the client the
	// invalidations its own command caused there, after its reply.
	AfterCommand []func(c *Client, cmd *Command)
	// AfterBatch runs once every command of a batch (what one read of the
	// connection brought) has run, before the replies are written:
	// Redis's beforeSleep, where BCAST tracking invalidations go out.
	AfterBatch []func(c *Client)
	// ClientClosed is called when a connection ends, to drop its
	// subscriptions, tracking and blocked state.
	ClientClosed []func(c *Client)
	// ClientReset is called by RESET for the same purpose.
	ClientReset []func(c *Client)
	// ClientInfo adds the family's state to a CLIENT LIST line (called
	// from any goroutine: read only what is safe to read concurrently).
	ClientInfo []func(c *Client, info *ClientInfo)
	// InfoFields appends "name:value\r\n" lines to an INFO section
	// ("clients", "stats", ...).
	InfoFields []func(section string, b []byte) []byte
	// ResetStats is called by CONFIG RESETSTAT.
	ResetStats []func()
}

// Server is a running cached: the RESP listener, the keyspace and the
// clients.
type Server struct {
	cfg   Config
	log   *slog.Logger
	ks    *store.Keyspace
	table *Table
	hooks Hooks

	metrics *metrics
	stats   serverStats
	slowlog *slowlog
	latency *latencyMonitor
	started time.Time // also the base of mono's monotonic clock
	runID   string
	peakMem atomic.Int64
	// blockedClients counts clients waiting in a blocking command (the
	// blocking family keeps it).
	blockedClients atomic.Int64

	// Settings CONFIG SET can change.
	requirePass      atomic.Pointer[string]
	notifyFlags      atomic.Uint32
	timeout          atomic.Int64 // ns, 0 = never
	hz               atomic.Int64
	maxClients       atomic.Int64
	protoMaxBulkLen  atomic.Int64
	queryBufferLimit atomic.Int64
	params           *paramTable

	lnMu    sync.Mutex // guards ln, which CONFIG SET port/bind replaces
	ln      net.Listener
	closing atomic.Bool
	wg      sync.WaitGroup // connection goroutines

	clientsMu sync.Mutex
	clients   map[int64]*Client
	nclients  atomic.Int64
	nextID    atomic.Int64

	blocking blockState
	monitors monitors

	// loops are the event loops serving connections (event_loops > 0 on
	// Linux; empty: a goroutine per connection); nextLoop picks one.
	loops    []*eventLoop
	nextLoop atomic.Int64

	persist      persistence
	saveRules    atomic.Pointer[[]saveRule]
	snapDecoders map[store.Kind]SnapshotDecoder

	// family holds command families' server-wide state (see Family);
	// written only while New builds the server, read-only afterwards.
	family map[any]any

	// memLimitPrev is the Go memory limit before Start (restored by
	// Shutdown); memLimitSet says whether this server changed it.
	memLimitPrev int64
	memLimitSet  bool
	threadsPrev  int // GOMAXPROCS before Start, when threads is set

	// evictKick wakes the background evictor (see evict); evictDone
	// closes when it has stopped; evictFailed says the last eviction
	// could not get under maxmemory.
	evictKick   chan struct{}
	evictDone   chan struct{}
	evictFailed atomic.Bool
	evicting    atomic.Bool  // the background evictor is at work
	evictedAt   atomic.Int64 // s.mono() when the background evictor last finished

	bgCancel context.CancelFunc
	bgDone   chan struct{}
}

// New builds a server from a validated config; Start serves it.
func New(cfg Config, env daemon.Env) (*Server, error) {
	s := &Server{
		evictKick: make(chan struct{}, 1),
		cfg:       cfg,
		log:       env.Log,
		clients:   map[int64]*Client{},
		started:   time.Now(),
		runID:     newRunID(),
	}
	s.ks = store.New(store.Config{Databases: cfg.Databases, Shards: cfg.Shards}, (*observer)(s))
	s.setupFamilies()
	s.table = newTable(s.families()...)
	for _, cmd := range s.table.list {
		cmd.stats = &cmdStats{}
		for _, sub := range cmd.Subcommands {
			sub.stats = &cmdStats{}
		}
	}
	s.slowlog = newSlowlog()
	s.latency = newLatencyMonitor()
	s.params = newParamTable(s)
	if err := s.applyConfig(cfg); err != nil {
		return nil, err
	}
	var err error
	if s.metrics, err = newMetrics(env.Registry, s); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if env.Admin != nil {
		env.Admin.AddCheck("resp_listener", func(ctx context.Context) error {
			if s.listener() == nil || s.closing.Load() {
				return errors.New("not serving")
			}
			return nil
		})
	}
	return s, nil
}

// setupFamilies lets families that keep server-wide state create it and
// append their Hooks; a new such family adds one line here.
func (s *Server) setupFamilies() {
	s.setupBlocking()
	s.setupPubSub()
	s.setupTracking()
	s.setupMonitor()
	s.setupDump()
	s.setupHashSet()
}

// families lists every command family's table entries. A new family adds
// its function here (one line) and its commands in its own cmd_*.go file.
func (s *Server) families() [][]*Command {
	return [][]*Command{
		connectionCommands(),
		serverCommands(),
		keyCommands(),
		stringCommands(),
		bitmapCommands(),
		s.hllCommands(),
		sortCommands(),
		dumpCommands(),
		transactionCommands(),
		monitorCommands(),
		s.listCommands(),
		s.pubsubCommands(),
		s.trackingCommands(),
		s.hashCommands(),
		s.setCommands(),
		s.zsetCommands(),
		s.geoCommands(),
	}
}

// applyConfig sets the runtime settings from cfg.
func (s *Server) applyConfig(cfg Config) error {
	p, _ := store.ParsePolicy(cfg.MaxMemoryPolicy)
	flags, err := parseNotifyFlags(cfg.NotifyKeyspaceEvents)
	if err != nil {
		return err
	}
	s.ks.SetMaxMemory(int64(cfg.MaxMemory))
	s.ks.SetPolicy(p)
	s.ks.SetSamples(cfg.MaxMemorySamples)
	s.ks.SetLFUParams(cfg.LFULogFactor, cfg.LFUDecayTime)
	pass := cfg.RequirePass
	s.requirePass.Store(&pass)
	s.notifyFlags.Store(uint32(flags))
	rules, err := parseSave(cfg.Save)
	if err != nil {
		return err
	}
	s.saveRules.Store(&rules)
	s.timeout.Store(int64(cfg.Timeout))
	s.hz.Store(int64(cfg.Hz))
	s.maxClients.Store(int64(cfg.MaxClients))
	s.protoMaxBulkLen.Store(int64(cfg.ProtoMaxBulkLen))
	s.queryBufferLimit.Store(int64(cfg.ClientQueryBufferLimit))
	s.slowlog.setParams(int64(cfg.SlowlogLogSlowerThan), cfg.SlowlogMaxLen)
	s.latency.threshold.Store(int64(cfg.LatencyMonitorThreshold))
	return nil
}

// mono is a monotonic clock reading, cheaper than time.Now.
func (s *Server) mono() time.Duration { return time.Since(s.started) }

// Keyspace is the server's keyspace (for tests and families).
func (s *Server) Keyspace() *store.Keyspace { return s.ks }

// Log is the server's logger.
func (s *Server) Log() *slog.Logger { return s.log }

// Hooks returns the server's hooks, for families to append to during
// setup.
func (s *Server) Hooks() *Hooks { return &s.hooks }

func (s *Server) authRequired() bool { return *s.requirePass.Load() != "" }

// Start implements daemon.Service: it binds the RESP listener and starts
// accepting, and starts active expiry and the idle-client reaper.
func (s *Server) Start(ctx context.Context) error {
	s.persist.lastSave.Store(time.Now().Unix())
	s.persist.lastOK.Store(true)
	// Load before listening: no client sees a half-loaded keyspace.
	if err := s.loadSnapshot(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Listen, err)
	}
	s.lnMu.Lock()
	s.ln = ln
	s.lnMu.Unlock()
	if s.cfg.Threads > 0 {
		if os.Getenv("GOMAXPROCS") != "" {
			// The operator set it for the whole process: it wins.
			s.log.Info("threads ignored: GOMAXPROCS is set in the environment", "threads", s.cfg.Threads, "gomaxprocs", runtime.GOMAXPROCS(0))
		} else {
			s.threadsPrev = runtime.GOMAXPROCS(s.cfg.Threads)
		}
	}
	s.memLimitPrev = debug.SetMemoryLimit(-1)
	s.applyMemoryLimit()
	if n := s.cfg.EventLoops; n > 0 && reactorSupported {
		if err := s.startLoops(n); err != nil {
			_ = ln.Close()
			return fmt.Errorf("event loops: %w", err)
		}
	}
	bg, cancel := context.WithCancel(context.Background())
	s.bgCancel = cancel
	s.bgDone = make(chan struct{})
	go s.background(bg)
	s.evictDone = make(chan struct{})
	go s.evictor(bg)
	s.wg.Add(1)
	go s.acceptLoop(ln)
	s.log.Info("serving RESP", "addr", ln.Addr().String())
	return nil
}

// listener is the current RESP listener (nil before Start).
func (s *Server) listener() net.Listener {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	return s.ln
}

// rebind moves the RESP listener to host:port (CONFIG SET port/bind):
// the new address is bound first, so on failure nothing changes; open
// connections stay.
func (s *Server) rebind(host, port string) error {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.ln == nil || s.closing.Load() {
		return errors.New("not serving")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return err
	}
	old := s.ln
	s.ln = ln
	s.wg.Add(1)
	go s.acceptLoop(ln)
	_ = old.Close()
	s.log.Info("serving RESP", "addr", ln.Addr().String())
	return nil
}

// Endpoints implements daemon.Endpointer.
func (s *Server) Endpoints() []daemon.Endpoint {
	ln := s.listener()
	if ln == nil {
		return nil
	}
	a := ln.Addr().String()
	return []daemon.Endpoint{{Name: "resp", Addr: a, URL: "redis://" + a, Env: "REDIS_URL"}}
}

// Addr is the bound RESP address (after Start).
func (s *Server) Addr() string { return s.listener().Addr().String() }

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off, as
			// net/http does, instead of spinning.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Error("accept", "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
			_ = tc.SetKeepAlive(true)
		}
		s.stats.connections.Add(1)
		if s.nclients.Load() >= s.maxClients.Load() {
			s.stats.rejectedConns.Add(1)
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = conn.Write([]byte("-ERR max number of clients reached\r\n"))
			_ = conn.Close()
			continue
		}
		var lc *loopConn
		if len(s.loops) > 0 {
			var err error
			if lc, err = newLoopConn(conn); err != nil {
				s.log.Warn("connection not handed to an event loop", "err", err)
				_ = conn.Close()
				continue
			}
			conn = lc
		}
		c := s.newClient(conn)
		s.clientsMu.Lock()
		if s.closing.Load() {
			s.clientsMu.Unlock()
			_ = conn.Close()
			if lc != nil {
				lc.closeFD()
			}
			c.release()
			return
		}
		s.clients[c.id] = c
		s.nclients.Add(1)
		s.wg.Add(1)
		if lc != nil {
			// Posted under clientsMu: ahead of the shutdown's task.
			l := s.pickLoop()
			lc.l = l
			c.lconn = lc
			c.pushLoop = l
			l.post(loopTask{kind: taskAdd, c: c})
		}
		s.clientsMu.Unlock()
		if lc == nil {
			go s.serve(c)
		}
	}
}

// dropClient forgets a closed connection and releases its state.
func (s *Server) dropClient(c *Client) {
	if c.watch.Len() > 0 {
		s.ks.Unwatch(&c.watch)
	}
	for _, h := range s.hooks.ClientClosed {
		h(c)
	}
	_ = c.conn.Close()
	s.clientsMu.Lock()
	delete(s.clients, c.id)
	s.clientsMu.Unlock()
	s.nclients.Add(-1)
	c.release()
}

// Clients returns a snapshot of the connected clients.
func (s *Server) Clients() []*Client {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	out := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	return out
}

// background runs active expiry Hz times a second and closes idle
// clients once a second.
func (s *Server) background(ctx context.Context) {
	defer close(s.bgDone)
	hz := max(s.hz.Load(), 1)
	period := time.Second / time.Duration(hz)
	t := time.NewTicker(period)
	defer t.Stop()
	lastReap := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if h := max(s.hz.Load(), 1); h != hz { // CONFIG SET hz
				hz = h
				period = time.Second / time.Duration(hz)
				t.Reset(period)
			}
			budget := period / 4 // Redis's 25% of CPU for the slow cycle
			n := s.ks.ActiveExpireCycle(now.UnixMilli(), budget)
			_ = n
			if now.Sub(lastReap) >= time.Second {
				lastReap = now
				s.reapIdle(now)
				if s.saveRulesDue(now) {
					s.BackgroundSave()
				}
			}
		}
	}
}

// reapIdle closes clients idle longer than the timeout setting.
func (s *Server) reapIdle(now time.Time) {
	timeout := time.Duration(s.timeout.Load())
	if timeout <= 0 {
		return
	}
	limit := now.Add(-timeout).UnixMilli()
	for _, c := range s.Clients() {
		if c.lastUsed.Load() < limit && !c.exempt() {
			s.log.Debug("closing idle client", "client_id", c.id)
			c.Kill()
		}
	}
}

// exempt reports whether the idle timeout skips the client (Redis spares
// subscribers and blocked clients; their families call SetExemptIdle).
func (c *Client) exempt() bool { return c.exemptIdle.Load() || c.blockedNow.Load() }

// SetExemptIdle spares the client from (or subjects it again to) the
// idle timeout.
func (c *Client) SetExemptIdle(v bool) { c.exemptIdle.Store(v) }

// shutdownReadGrace bounds how long a connection keeps reading requests
// its client sent before the shutdown.
const shutdownReadGrace = 100 * time.Millisecond

// Shutdown implements daemon.Service:
//
//  1. stop accepting: the listener closes;
//  2. finish the commands in flight: each connection reads, for 100 ms at
//     most, what its client already sent, runs it, writes the replies,
//     then closes; blocked clients are woken and closed;
//  3. wait for the connection goroutines until ctx ends, then cut off
//     what is left;
//  4. stop active expiry, the idle reaper and the save rules (a
//     background save in progress finishes first);
//  5. save a snapshot when save rules are set.
func (s *Server) Shutdown(ctx context.Context) error {
	s.clientsMu.Lock()
	s.closing.Store(true)
	s.clientsMu.Unlock()
	var errs []error
	if ln := s.listener(); ln != nil {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	// Every connection gets a short grace period to read what its client
	// sent before the shutdown (a pipeline in flight), runs it, writes the
	// replies and closes: its reads fail once the deadline passes.
	grace := time.Now().Add(shutdownReadGrace)
	for _, c := range s.Clients() {
		_ = c.conn.SetReadDeadline(grace)
		c.Wake()
	}
	// Event loops hand their clients to goroutines, which do the same.
	for _, l := range s.loops {
		l.post(loopTask{kind: taskShutdown})
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		for _, c := range s.Clients() {
			_ = c.conn.Close()
		}
		<-done
		errs = append(errs, fmt.Errorf("drain connections: %w", ctx.Err()))
	}
	if s.bgCancel != nil {
		s.bgCancel()
		<-s.bgDone
		<-s.evictDone
	}
	if err := s.saveOnShutdown(); err != nil {
		errs = append(errs, err)
	}
	if s.memLimitSet {
		debug.SetMemoryLimit(s.memLimitPrev)
	}
	if s.threadsPrev > 0 {
		runtime.GOMAXPROCS(s.threadsPrev)
	}
	return errors.Join(errs...)
}

// applyMemoryLimit bounds the process's memory when maxmemory is set: the
// Go collector is told to keep the heap under 1.5 x maxmemory + 64 MB
// (garbage included), so RSS stays near what maxmemory promises instead of
// the default GC's 2 x live heap. The limit is process-wide: under anvil
// up it applies to every daemon of the process (which only makes the
// collector run more often as the heap nears it).
func (s *Server) applyMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return // the operator's limit for the whole process wins
	}
	mm := s.ks.MaxMemory()
	if mm <= 0 {
		if s.memLimitSet {
			debug.SetMemoryLimit(s.memLimitPrev)
			s.memLimitSet = false
		}
		return
	}
	debug.SetMemoryLimit(mm + mm/2 + 64<<20)
	s.memLimitSet = true
}

// observer adapts the server to store.Observer.
type observer Server

func (o *observer) KeyModified(db int, key []byte) {
	for _, h := range o.hooks.KeyModified {
		h(db, key)
	}
}

func (o *observer) KeyEvent(class store.Class, event string, db int, key []byte) {
	(*Server)(o).notify(class, event, db, key)
}

func newRunID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Family returns the server-wide state a command family stored under key
// with SetFamily, or nil.
func (s *Server) Family(key any) any { return s.family[key] }

// SetFamily stores a command family's server-wide state (its encoding
// thresholds, its tables ...) under key, an unexported type of the family
// as with context.WithValue. Call it only while New builds the server:
// from a function of setupFamilies, families or paramFamilies. The state
// itself must be safe for concurrent use.
func (s *Server) SetFamily(key, v any) {
	if s.family == nil {
		s.family = map[any]any{}
	}
	s.family[key] = v
}

// BlockedClients is the counter of clients in a blocking command, for the
// blocking family to keep and INFO to report.
func (s *Server) BlockedClients() *atomic.Int64 { return &s.blockedClients }

// evict makes room before a command when used memory is over maxmemory
// (mm); false means it could not (the command is refused with OOM if it
// may add memory). Under an allkeys policy, while used memory is at most
// evictSlack(mm) over the limit, a command of a pipeline (more of the
// client's commands are waiting: the loop is busy) goes on at once and
// the background evictor deletes keys meanwhile, on another core: the
// command need not pay for the eviction of the keys it displaces, the
// costliest part of a write under eviction (cache misses on cold keys). A
// lone command evicts itself unless the evictor is at work already (a
// wake-up per request would cost more than the eviction).
// Further over the limit, under noeviction and the volatile policies
// (which may find nothing to evict and must refuse at once), or when the
// last eviction failed, the command evicts first, as in Redis.
func (s *Server) evict(mm, now int64, pipelined bool) bool {
	over := s.ks.UsedMemory() - mm
	if over <= 0 {
		return true
	}
	if over <= evictSlack(mm) && !s.evictFailed.Load() && (pipelined || s.evicting.Load()) {
		switch s.ks.Policy() {
		case store.AllKeysLRU, store.AllKeysLFU, store.AllKeysRandom, store.AllKeysFIFO:
			s.kickEvictor()
			return true
		}
	}
	ok := s.ks.Evict(now)
	s.evictFailed.Store(!ok)
	return ok
}

// kickEvictor wakes the background evictor (a no-op while it is already
// kicked).
func (s *Server) kickEvictor() {
	select {
	case s.evictKick <- struct{}{}:
	default:
	}
}

// evictSlack is how far over maxmemory (mm) used memory may go while the
// background evictor catches up: 1/64 of mm, at least 256 KB.
func evictSlack(mm int64) int64 { return max(mm/64, 256<<10) }

// evictor evicts keys when evict kicks it, until ctx ends.
func (s *Server) evictor(ctx context.Context) {
	defer close(s.evictDone)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.evictKick:
			// Down to half the slack (at most 1/8) under the limit: the writes that
			// follow find room and need not wake us again at once (at
			// pipeline 1 a wake-up per write cost more than it saved).
			mm := s.ks.MaxMemory()
			target := mm - min(evictSlack(mm)/2, mm/8)
			s.evicting.Store(true)
			s.evictFailed.Store(!s.ks.EvictBelow(time.Now().UnixMilli(), target))
			s.evicting.Store(false)
			s.evictedAt.Store(int64(s.mono()))
		}
	}
}
