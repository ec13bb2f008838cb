package cached

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/pkg/config"
	"github.com/anvilstack/anvil/pkg/daemon"
	"github.com/anvilstack/anvil/pkg/resp"
)

// Config is cached's configuration. Keys are Redis's configuration
// directives with '-' spelled '_' (maxmemory_policy for maxmemory-policy);
// CONFIG GET and CONFIG SET use Redis's spelling.
type Config struct {
	daemon.Common `yaml:",inline"`

	// MaxMemory is maxmemory: the bytes keys and values may take before
	// the eviction policy applies (0: no limit). "64mb"-style units work.
	MaxMemory ByteSize `yaml:"maxmemory"`
	// MaxMemoryPolicy is maxmemory-policy: noeviction, allkeys-lru,
	// allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu,
	// volatile-random, volatile-ttl, allkeys-fifo, volatile-fifo.
	MaxMemoryPolicy string `yaml:"maxmemory_policy"`
	// MaxMemorySamples is maxmemory-samples: keys sampled per eviction.
	MaxMemorySamples int `yaml:"maxmemory_samples"`
	// LFULogFactor and LFUDecayTime tune the LFU counter as in Redis.
	LFULogFactor int `yaml:"lfu_log_factor"`
	LFUDecayTime int `yaml:"lfu_decay_time"`
	// RequirePass is requirepass: the default user's password ("" none).
	RequirePass string `yaml:"requirepass"`
	// Databases is the number of databases (SELECT 0..databases-1).
	Databases int `yaml:"databases"`
	// Shards is the number of lock shards per database (a power of two).
	Shards int `yaml:"shards"`
	// MaxClients is maxclients: connections beyond it are refused with
	// Redis's error.
	MaxClients int `yaml:"maxclients"`
	// Timeout closes a client idle this long (0: never), as Redis's
	// timeout directive (CONFIG GET reports it in seconds).
	Timeout time.Duration `yaml:"timeout"`
	// Save is Redis's save directive ("3600 1 300 100": snapshot after
	// 3600 s if 1 key changed, ...); "" turns automatic snapshots off,
	// the default for a cache. Snapshots go to data_dir/dump.cached, are
	// loaded on start and written on a clean shutdown when rules are set.
	Save string `yaml:"save"`
	// AppendOnly is reported by CONFIG GET appendonly; cached has no AOF,
	// so it must stay false.
	AppendOnly bool `yaml:"appendonly"`
	// ProtoMaxBulkLen is proto-max-bulk-len: the largest bulk argument.
	ProtoMaxBulkLen ByteSize `yaml:"proto_max_bulk_len"`
	// ClientQueryBufferLimit is client-query-buffer-limit.
	ClientQueryBufferLimit ByteSize `yaml:"client_query_buffer_limit"`
	// NotifyKeyspaceEvents is notify-keyspace-events (class letters,
	// "" off).
	NotifyKeyspaceEvents string `yaml:"notify_keyspace_events"`
	// Hz is how often per second background work runs (active expiry).
	Hz int `yaml:"hz"`
	// SlowlogLogSlowerThan (microseconds, -1 off) and SlowlogMaxLen
	// configure SLOWLOG.
	SlowlogLogSlowerThan int `yaml:"slowlog_log_slower_than"`
	SlowlogMaxLen        int `yaml:"slowlog_max_len"`
	// LatencyMonitorThreshold (milliseconds, 0 off) configures LATENCY.
	LatencyMonitorThreshold int `yaml:"latency_monitor_threshold"`
	// Threads, when set, is the number of OS threads running Go code
	// (GOMAXPROCS) for the whole process; 0 leaves the Go default (one
	// per CPU). On a small machine shared with the clients, 1 is often
	// fastest: it spends no CPU handing work between threads.
	Threads int `yaml:"threads"`
	// EventLoops is how connections are served: n > 0 serves them from n
	// epoll event loops, Redis's model (Linux only; elsewhere 0 is used);
	// 0 gives every connection a goroutine of its own (Go's poller). The
	// default, 1, measured fastest (cached/README.md "Measured").
	EventLoops int `yaml:"event_loops"`
	// EventLoopPoll is how long a busy event loop polls for input before
	// it sleeps in epoll_wait (only a loop whose last wait was shorter
	// than this polls): under steady traffic it saves the wake-up each
	// sleep costs, at the price of a core kept busy while requests come
	// closer together than this. 0 never polls.
	EventLoopPoll time.Duration `yaml:"event_loop_poll"`
}

// DefaultConfig is cached's built-in configuration: Redis's defaults, on
// 127.0.0.1:6380 with the admin listener on 9103.
func DefaultConfig() Config {
	return Config{
		Common:                 daemon.DefaultCommon("cached", "127.0.0.1:6380", "127.0.0.1:9103"),
		MaxMemoryPolicy:        "noeviction",
		MaxMemorySamples:       store.DefaultSamples,
		LFULogFactor:           store.DefaultLFULogFactor,
		LFUDecayTime:           store.DefaultLFUDecayTime,
		Databases:              16,
		Shards:                 64,
		MaxClients:             10000,
		ProtoMaxBulkLen:        resp.DefaultMaxBulkLen,
		ClientQueryBufferLimit: resp.DefaultMaxQueryBuffer,
		Hz:                     10,
		SlowlogLogSlowerThan:   10000,
		SlowlogMaxLen:          128,
		EventLoops:             1,
		EventLoopPoll:          50 * time.Microsecond,
	}
}

// Validate implements daemon.Config.
func (c *Config) Validate() error {
	var ps config.Problems
	if c.MaxMemory < 0 {
		ps.Add("maxmemory", "must not be negative, got %d", c.MaxMemory)
	}
	if _, ok := store.ParsePolicy(c.MaxMemoryPolicy); !ok {
		ps.Add("maxmemory_policy", "unknown policy %q (want one of %s)", c.MaxMemoryPolicy, strings.Join(store.PolicyNames(), ", "))
	}
	if c.MaxMemorySamples < 1 || c.MaxMemorySamples > math.MaxInt32 {
		ps.Add("maxmemory_samples", "must be at least 1, got %d", c.MaxMemorySamples)
	}
	if c.LFULogFactor < 0 {
		ps.Add("lfu_log_factor", "must not be negative, got %d", c.LFULogFactor)
	}
	if c.LFUDecayTime < 0 {
		ps.Add("lfu_decay_time", "must not be negative, got %d", c.LFUDecayTime)
	}
	if strings.ContainsAny(c.RequirePass, "\r\n") {
		ps.Add("requirepass", "must not contain a line break")
	}
	if c.Databases < 1 || c.Databases > 1<<20 {
		ps.Add("databases", "must be 1..1048576, got %d", c.Databases)
	}
	if c.Shards < 1 || c.Shards > 1<<16 || c.Shards&(c.Shards-1) != 0 {
		ps.Add("shards", "must be a power of two in 1..65536, got %d", c.Shards)
	}
	if c.MaxClients < 1 {
		ps.Add("maxclients", "must be at least 1, got %d", c.MaxClients)
	}
	if c.Timeout < 0 {
		ps.Add("timeout", "must not be negative, got %v", c.Timeout)
	}
	if _, err := parseSave(c.Save); err != nil {
		ps.Add("save", "%v", err)
	}
	if c.AppendOnly {
		ps.Add("appendonly", "cached has no append-only file; use save for snapshots")
	}
	if c.ProtoMaxBulkLen < 1<<20 {
		ps.Add("proto_max_bulk_len", "must be at least 1mb, got %d", c.ProtoMaxBulkLen)
	}
	if c.ClientQueryBufferLimit < 1<<20 {
		ps.Add("client_query_buffer_limit", "must be at least 1mb, got %d", c.ClientQueryBufferLimit)
	}
	if _, err := parseNotifyFlags(c.NotifyKeyspaceEvents); err != nil {
		ps.Add("notify_keyspace_events", "%v", err)
	}
	if c.Hz < 1 || c.Hz > 500 {
		ps.Add("hz", "must be 1..500, got %d", c.Hz)
	}
	if c.SlowlogLogSlowerThan < -1 {
		ps.Add("slowlog_log_slower_than", "must be -1 (off) or more, got %d", c.SlowlogLogSlowerThan)
	}
	if c.SlowlogMaxLen < 0 {
		ps.Add("slowlog_max_len", "must not be negative, got %d", c.SlowlogMaxLen)
	}
	if c.EventLoops < 0 || c.EventLoops > 1024 {
		ps.Add("event_loops", "must be 0 (a goroutine per connection) to 1024, got %d", c.EventLoops)
	}
	if c.EventLoopPoll < 0 || c.EventLoopPoll > time.Millisecond {
		ps.Add("event_loop_poll", "must be 0 (never poll) to 1ms, got %s", c.EventLoopPoll)
	}
	if c.Threads < 0 || c.Threads > 1024 {
		ps.Add("threads", "must be 0 (Go's default) to 1024, got %d", c.Threads)
	}
	if c.LatencyMonitorThreshold < 0 {
		ps.Add("latency_monitor_threshold", "must not be negative, got %d", c.LatencyMonitorThreshold)
	}
	return ps.Err()
}

// ByteSize is a size in bytes that YAML may give as a number or with
// Redis's units: "64mb", "1gb", "100k" (k=1000, kb=1024, and so on).
type ByteSize int64

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a size such as 64mb", n.Line)
	}
	v, err := ParseMemory(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = ByteSize(v)
	return nil
}

// ParseMemory parses a memory size as Redis's config does ("1gb", "100mb",
// "512", "1k").
func ParseMemory(s string) (int64, error) {
	ls := strings.ToLower(strings.TrimSpace(s))
	mul := int64(1)
	for _, u := range []struct {
		suffix string
		mul    int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1e9}, {"m", 1e6}, {"k", 1e3}, {"b", 1}} {
		if strings.HasSuffix(ls, u.suffix) {
			ls = strings.TrimSuffix(ls, u.suffix)
			mul = u.mul
			break
		}
	}
	n, err := strconv.ParseInt(ls, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mul {
		return 0, fmt.Errorf("invalid memory size %q", s)
	}
	return n * mul, nil
}

// saveRule is one "seconds changes" pair of the save directive.
type saveRule struct {
	seconds int64
	changes int64
}

func parseSave(s string) ([]saveRule, error) {
	f := strings.Fields(s)
	if len(f)%2 != 0 {
		return nil, fmt.Errorf("want pairs of seconds and changes, got %q", s)
	}
	var rules []saveRule
	for i := 0; i < len(f); i += 2 {
		sec, err1 := strconv.ParseInt(f[i], 10, 64)
		ch, err2 := strconv.ParseInt(f[i+1], 10, 64)
		if err1 != nil || err2 != nil || sec < 1 || ch < 0 {
			return nil, fmt.Errorf("invalid save rule %q %q", f[i], f[i+1])
		}
		rules = append(rules, saveRule{sec, ch})
	}
	return rules, nil
}

// formatSave writes rules as CONFIG GET save shows them.
func formatSave(rules []saveRule) string {
	var b strings.Builder
	for i, r := range rules {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d %d", r.seconds, r.changes)
	}
	return b.String()
}
