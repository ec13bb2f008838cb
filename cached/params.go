package cached

import (
	"errors"
	"fmt"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anvilstack/anvil/cached/store"
)

// CONFIG GET/SET: every parameter cached reports, by Redis's name. A
// parameter without a setter is immutable at runtime. Families add their
// own parameters (encodings thresholds ...) with a function listed in
// paramFamilies.

// Param is one runtime configuration parameter.
type Param struct {
	Name  string
	Alias string
	Get   func() string
	// Set validates and applies a value; its error text follows Redis's
	// "CONFIG SET failed (possibly related to argument 'x') - " prefix.
	// Nil means the parameter cannot change at runtime.
	Set func(v string) error
	// Sensitive parameters are hidden from logs.
	Sensitive bool
	// Hidden parameters are returned by CONFIG GET only when asked for
	// by their exact name, as Redis's hidden (debugging) configs.
	Hidden bool
}

type paramTable struct {
	mu     sync.Mutex // serializes CONFIG SET (apply is all or nothing)
	byName map[string]*Param
	list   []*Param
}

func (s *Server) paramFamilies() [][]*Param {
	return [][]*Param{
		s.coreParams(),
		s.hllParams(),
		s.dumpParams(),
		s.listParams(),
		s.trackingParams(),
		s.hashParams(),
		s.setParams(),
		s.zsetParams(),
	}
}

func newParamTable(s *Server) *paramTable {
	t := &paramTable{byName: map[string]*Param{}}
	for _, fam := range s.paramFamilies() {
		for _, p := range fam {
			t.byName[p.Name] = p
			if p.Alias != "" {
				t.byName[p.Alias] = p
			}
			t.list = append(t.list, p)
		}
	}
	sort.Slice(t.list, func(i, j int) bool { return t.list[i].Name < t.list[j].Name })
	return t
}

// wireErr is an error whose text is Redis's, capitals and all.
type wireErr string

func (e wireErr) Error() string { return string(e) }

var (
	errNotInt    = errors.New("argument couldn't be parsed into an integer")
	errNotMemory = errors.New("argument must be a memory value")
	errYesNo     = errors.New("argument must be 'yes' or 'no'")
)

func errRange(lo, hi int64) error {
	return fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
}

// IntParam is a parameter holding an integer in [lo, hi].
func IntParam(name string, lo, hi int64, get func() int64, set func(int64)) *Param {
	p := &Param{Name: name, Get: func() string { return strconv.FormatInt(get(), 10) }}
	if set != nil {
		p.Set = func(v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errNotInt
			}
			if n < lo || n > hi {
				return errRange(lo, hi)
			}
			set(n)
			return nil
		}
	}
	return p
}

// MemoryParam is a parameter holding a memory size ("64mb") in [lo, hi].
func MemoryParam(name string, lo, hi int64, get func() int64, set func(int64)) *Param {
	p := &Param{Name: name, Get: func() string { return strconv.FormatInt(get(), 10) }}
	if set != nil {
		p.Set = func(v string) error {
			n, err := ParseMemory(v)
			if err != nil {
				return errNotMemory
			}
			if n < lo || n > hi {
				return errRange(lo, hi)
			}
			set(n)
			return nil
		}
	}
	return p
}

// BoolParam is a yes/no parameter.
func BoolParam(name string, get func() bool, set func(bool) error) *Param {
	p := &Param{Name: name, Get: func() string {
		if get() {
			return "yes"
		}
		return "no"
	}}
	if set != nil {
		p.Set = func(v string) error {
			switch strings.ToLower(v) {
			case "yes":
				return set(true)
			case "no":
				return set(false)
			}
			return errYesNo
		}
	}
	return p
}

// fixed is a parameter cached cannot change at runtime (Redis can for
// some: port, bind). Setting it to the value it has is accepted, as a
// client restoring a config it read would do; any other value is refused.
func fixed(name, value string) *Param {
	return &Param{Name: name, Get: func() string { return value }, Set: func(v string) error {
		if v != value {
			return errors.New("can't set immutable config")
		}
		return nil
	}}
}

// valueParam is a mutable parameter with no effect but being reported
// (clients and test suites set them).
type valueParam struct {
	mu sync.Mutex
	v  string
}

func (s *Server) reported(name, def string, validate func(string) error) *Param {
	vp := &valueParam{v: def}
	return &Param{Name: name,
		Get: func() string { vp.mu.Lock(); defer vp.mu.Unlock(); return vp.v },
		Set: func(v string) error {
			if validate != nil {
				if err := validate(v); err != nil {
					return err
				}
			}
			vp.mu.Lock()
			vp.v = v
			vp.mu.Unlock()
			return nil
		}}
}

func yesNo(v string) error {
	if l := strings.ToLower(v); l != "yes" && l != "no" {
		return errYesNo
	}
	return nil
}

func (s *Server) coreParams() []*Param {
	ks := s.ks
	var (
		mu            sync.Mutex
		save          = s.cfg.Save
		samples       = int64(s.cfg.MaxMemorySamples)
		lfuLog        = int64(s.cfg.LFULogFactor)
		lfuDecay      = int64(s.cfg.LFUDecayTime)
		slowlogMaxLen = int64(s.cfg.SlowlogMaxLen)
		maxmemClients = "0"
	)
	locked := func(f func()) { mu.Lock(); f(); mu.Unlock() }
	// Redis's list, in its order, then cached's own policies.
	policyNames := "volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction, allkeys-fifo, volatile-fifo"
	return []*Param{
		MemoryParam("maxmemory", 0, math.MaxInt64, ks.MaxMemory, func(n int64) {
			ks.SetMaxMemory(n)
			if s.listener() != nil { // running: follow the new limit
				s.applyMemoryLimit()
				if ks.OverLimit() {
					// Evict down to the new limit now, not at the next
					// write (Redis starts evicting at CONFIG SET).
					s.kickEvictor()
				}
			}
		}),
		{Name: "maxmemory-policy", Get: func() string { return ks.Policy().String() }, Set: func(v string) error {
			p, ok := store.ParsePolicy(strings.ToLower(v))
			if !ok {
				return fmt.Errorf("argument(s) must be one of the following: %s", policyNames)
			}
			ks.SetPolicy(p)
			return nil
		}},
		IntParam("maxmemory-samples", 1, math.MaxInt32, func() int64 { mu.Lock(); defer mu.Unlock(); return samples },
			func(n int64) { locked(func() { samples = n }); ks.SetSamples(int(n)) }),
		s.reported("maxmemory-eviction-tenacity", "10", func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return errNotInt
			}
			if n < 0 || n > 100 {
				return errRange(0, 100)
			}
			return nil
		}),
		IntParam("lfu-log-factor", 0, math.MaxInt32, func() int64 { mu.Lock(); defer mu.Unlock(); return lfuLog },
			func(n int64) { locked(func() { lfuLog = n; ks.SetLFUParams(int(lfuLog), int(lfuDecay)) }) }),
		IntParam("lfu-decay-time", 0, math.MaxInt32, func() int64 { mu.Lock(); defer mu.Unlock(); return lfuDecay },
			func(n int64) { locked(func() { lfuDecay = n; ks.SetLFUParams(int(lfuLog), int(lfuDecay)) }) }),
		{Name: "requirepass", Sensitive: true, Get: func() string { return *s.requirePass.Load() }, Set: func(v string) error {
			s.requirePass.Store(&v)
			return nil
		}},
		{Name: "save", Get: func() string { mu.Lock(); defer mu.Unlock(); return save }, Set: func(v string) error {
			rules, err := parseSave(v)
			if err != nil {
				return wireErr("Invalid save parameters")
			}
			locked(func() { save = formatSave(rules) })
			s.saveRules.Store(&rules)
			return nil
		}},
		BoolParam("appendonly", func() bool { return false }, func(v bool) error {
			if v {
				return errors.New("cached has no append-only file")
			}
			return nil
		}),
		IntParam("databases", 1, math.MaxInt32, func() int64 { return int64(ks.DBs()) }, nil),
		IntParam("maxclients", 1, math.MaxInt32, s.maxClients.Load, s.maxClients.Store),
		IntParam("timeout", 0, math.MaxInt32, func() int64 { return s.timeout.Load() / int64(time.Second) },
			func(n int64) { s.timeout.Store(n * int64(time.Second)) }),
		MemoryParam("proto-max-bulk-len", 1<<20, math.MaxInt64, s.protoMaxBulkLen.Load, s.protoMaxBulkLen.Store),
		MemoryParam("client-query-buffer-limit", 1<<20, math.MaxInt64, s.queryBufferLimit.Load, s.queryBufferLimit.Store),
		{Name: "notify-keyspace-events", Get: func() string { return formatNotifyFlags(store.Class(s.notifyFlags.Load())) },
			Set: func(v string) error {
				f, err := parseNotifyFlags(v)
				if err != nil {
					return wireErr("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
				}
				s.notifyFlags.Store(uint32(f))
				return nil
			}},
		IntParam("hz", 1, 500, s.hz.Load, s.hz.Store),
		IntParam("slowlog-log-slower-than", -1, math.MaxInt64, s.slowlog.slowerThan.Load, s.slowlog.slowerThan.Store),
		IntParam("slowlog-max-len", 0, math.MaxInt64, func() int64 { mu.Lock(); defer mu.Unlock(); return slowlogMaxLen },
			func(n int64) {
				locked(func() { slowlogMaxLen = n })
				s.slowlog.setParams(s.slowlog.slowerThan.Load(), int(n))
			}),
		IntParam("latency-monitor-threshold", 0, math.MaxInt64, s.latency.threshold.Load, s.latency.threshold.Store),
		{Name: "port", Get: func() string { return strconv.Itoa(s.port()) }, Set: func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return errNotInt
			}
			if n < 0 || n > 65535 {
				return errRange(0, 65535)
			}
			if n == s.port() {
				return nil
			}
			if err := s.rebind(s.bindHost(), v); err != nil {
				return wireErr("Unable to listen on this port: " + err.Error())
			}
			return nil
		}},
		{Name: "bind", Get: s.bindHost, Set: func(v string) error {
			f := strings.Fields(v)
			if len(f) != 1 || (net.ParseIP(f[0]) == nil && f[0] != "localhost" && f[0] != "*") {
				return wireErr("Failed to bind to specified addresses.")
			}
			host := f[0]
			if host == "*" {
				host = ""
			}
			if host == s.bindHost() {
				return nil
			}
			if err := s.rebind(host, strconv.Itoa(s.port())); err != nil {
				return wireErr("Failed to bind to specified addresses.")
			}
			return nil
		}},
		{Name: "maxmemory-clients", Get: func() string { mu.Lock(); defer mu.Unlock(); return maxmemClients }, Set: func(v string) error {
			if p, ok := strings.CutSuffix(v, "%"); ok {
				n, err := strconv.Atoi(p)
				if err != nil || n < 0 {
					return errors.New("percentage argument must be a positive integer")
				}
				if n > 100 {
					return errors.New("percentage argument must be less or equal to 100")
				}
			} else if _, err := ParseMemory(v); err != nil {
				return errNotMemory
			}
			// Reported only: cached does not evict clients.
			locked(func() { maxmemClients = v })
			return nil
		}},
		{Name: "replicaof", Alias: "slaveof", Get: func() string { return "" }},
		{Name: "key-load-delay", Hidden: true, Get: func() string { return "0" }},
		fixed("dir", s.cfg.DataDir),
		fixed("dbfilename", snapshotFile),
		fixed("daemonize", "no"),
		fixed("io-threads", "1"),
		fixed("cluster-enabled", "no"),
		fixed("shards", strconv.Itoa(s.cfg.Shards)),
		s.reported("loglevel", "notice", nil),
		s.reported("tcp-keepalive", "300", nil),
		s.reported("lazyfree-lazy-eviction", "no", yesNo),
		s.reported("lazyfree-lazy-expire", "no", yesNo),
		s.reported("lazyfree-lazy-server-del", "no", yesNo),
		s.reported("lazyfree-lazy-user-del", "no", yesNo),
		s.reported("lazyfree-lazy-user-flush", "no", yesNo),
		s.reported("activerehashing", "yes", yesNo),
		s.reported("activedefrag", "no", yesNo),
		s.reported("appendfsync", "everysec", nil),
		s.reported("stop-writes-on-bgsave-error", "yes", yesNo),
		s.reported("rdbcompression", "yes", yesNo),
		s.reported("protected-mode", "no", yesNo),
		s.reported("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", nil),
		s.reported("busy-reply-threshold", "5000", nil),
		s.reported("repl-backlog-size", "1048576", nil),
		s.reported("replica-read-only", "yes", yesNo),
	}
}

func (s *Server) bindHost() string {
	host := s.cfg.Listen
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

func cmdConfigGet(c *Client, args [][]byte) {
	t := c.srv.params
	type kv struct{ k, v string }
	var out []kv
	// Each name (a parameter's or its alias) is reported once; a hidden
	// parameter only when asked for by its exact name.
	seenName := map[string]bool{}
	emit := func(name string, p *Param) {
		if !seenName[name] {
			seenName[name] = true
			out = append(out, kv{name, p.Get()})
		}
	}
	for _, pat := range args[2:] {
		lp := strings.ToLower(string(pat))
		if p := t.byName[lp]; p != nil && !hasGlob(pat) {
			emit(lp, p)
			continue
		}
		for _, p := range t.list {
			if p.Hidden {
				continue
			}
			if GlobMatch(pat, []byte(p.Name), true) {
				emit(p.Name, p)
			}
			if p.Alias != "" && GlobMatch(pat, []byte(p.Alias), true) {
				emit(p.Alias, p)
			}
		}
	}
	c.ReplyMap(len(out))
	for _, o := range out {
		c.ReplyBulkString(o.k)
		c.ReplyBulkString(o.v)
	}
}

func hasGlob(b []byte) bool {
	for _, c := range b {
		if c == '*' || c == '?' || c == '[' {
			return true
		}
	}
	return false
}

func cmdConfigSet(c *Client, args [][]byte) {
	if len(args)%2 != 0 {
		c.ReplyError(ErrSyntax)
		return
	}
	t := c.srv.params
	n := (len(args) - 2) / 2
	params := make([]*Param, n)
	for i := 0; i < n; i++ {
		name := args[2+2*i]
		p := t.byName[strings.ToLower(string(name))]
		if p == nil {
			c.ReplyError(fmt.Sprintf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", name))
			return
		}
		if p.Set == nil {
			c.ReplyError(fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - can't set immutable config", name))
			return
		}
		for j := 0; j < i; j++ {
			if params[j] == p {
				c.ReplyError(fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - duplicate parameter", name))
				return
			}
		}
		params[i] = p
	}
	// All or nothing: remember the old values and restore them if any
	// value is refused.
	t.mu.Lock()
	defer t.mu.Unlock()
	old := make([]string, n)
	for i, p := range params {
		old[i] = p.Get()
	}
	for i, p := range params {
		if err := p.Set(string(args[3+2*i])); err != nil {
			for j := i - 1; j >= 0; j-- {
				_ = params[j].Set(old[j])
			}
			c.ReplyError(fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", p.Name, err))
			return
		}
	}
	c.ReplyOK()
}

func cmdConfigResetStat(c *Client, args [][]byte) {
	s := c.srv
	s.stats.reset()
	s.ks.ResetStats()
	s.table.eachCommand(func(cmd *Command) { cmd.stats.reset() })
	s.peakMem.Store(s.UsedMemory())
	for _, h := range s.hooks.ResetStats {
		h()
	}
	c.ReplyOK()
}

func cmdConfigRewrite(c *Client, args [][]byte) {
	c.ReplyError("ERR The server is running without a config file")
}

func cmdConfigHelp(c *Client, args [][]byte) {
	replyHelp(c, "CONFIG", []string{
		"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>", "    Set the configuration <directive> to <value>.",
		"RESETSTAT", "    Reset statistics reported by the INFO command.",
		"REWRITE", "    Rewrite the configuration file.",
	})
}
