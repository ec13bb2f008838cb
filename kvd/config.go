package kvd

import (
	"fmt"
	"time"

	"github.com/anvilstack/anvil/pkg/config"
	"github.com/anvilstack/anvil/pkg/daemon"
)

// Config is kvd's configuration.
type Config struct {
	daemon.Common `yaml:",inline"`
	// NodeID names this node in the cluster; empty: the name stored in the
	// data directory, or the host name for a new node.
	NodeID string `yaml:"node_id"`
	// Raft is the address all Raft groups of the node share.
	Raft string `yaml:"raft"`
	// Gossip is the memberlist address (UDP and TCP).
	Gossip string `yaml:"gossip"`
	// Advertise is the host other nodes use to reach this one; empty: the
	// host of each listen address (the host name if that is unspecified).
	Advertise string `yaml:"advertise"`
	// Join lists gossip addresses of running members; empty starts a new
	// cluster (or rejoins the one in the data directory).
	Join []string `yaml:"join"`
	// Replicas is the replica count per shard (the node count if smaller).
	Replicas int `yaml:"replicas"`
	// Shards is the shard count, fixed when the cluster is created.
	Shards int `yaml:"shards"`
	// RequestTimeout bounds a request; past it the reply is 503.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	Tuning         Tuning        `yaml:"tuning"`
}

// Tuning holds Raft and gossip timings.
type Tuning struct {
	HeartbeatTimeout   time.Duration `yaml:"heartbeat_timeout"`
	ElectionTimeout    time.Duration `yaml:"election_timeout"`
	LeaderLeaseTimeout time.Duration `yaml:"leader_lease_timeout"`
	// SnapshotThreshold is how many new entries trigger a snapshot (and
	// log compaction); TrailingLogs how many entries stay after it, so a
	// briefly lagging replica catches up from the log.
	SnapshotThreshold uint64        `yaml:"snapshot_threshold"`
	TrailingLogs      uint64        `yaml:"trailing_logs"`
	SnapshotInterval  time.Duration `yaml:"snapshot_interval"`
	// FastGossip uses loopback failure-detection timings (sub-second).
	FastGossip bool `yaml:"fast_gossip"`
	// SyncInterval is the least time between two fsyncs of the node's
	// write-ahead log: Raft appends of every shard that arrive meanwhile
	// share one fsync (group commit). Nothing is acknowledged before its
	// fsync; a longer interval trades latency for fewer disk flushes.
	SyncInterval time.Duration `yaml:"sync_interval"`
}

// DefaultConfig is kvd's built-in configuration: a one-node cluster on
// loopback that grows when others join it.
func DefaultConfig() Config {
	return Config{
		Common:         daemon.DefaultCommon("kvd", "127.0.0.1:7070", "127.0.0.1:9105"),
		Raft:           "127.0.0.1:7071",
		Gossip:         "127.0.0.1:7072",
		Replicas:       3,
		Shards:         16,
		RequestTimeout: 5 * time.Second,
		Tuning: Tuning{
			HeartbeatTimeout:   1000 * time.Millisecond,
			ElectionTimeout:    1000 * time.Millisecond,
			LeaderLeaseTimeout: 500 * time.Millisecond,
			SnapshotThreshold:  16384,
			TrailingLogs:       10240,
			SnapshotInterval:   30 * time.Second,
			SyncInterval:       0,
		},
	}
}

// MaxShards bounds -shards (a node's gossip metadata carries a bit per shard).
const MaxShards = 1024

// Validate implements daemon.Config.
func (c *Config) Validate() error {
	var ps config.Problems
	ps.CheckHostPort("raft", c.Raft)
	ps.CheckHostPort("gossip", c.Gossip)
	for i, j := range c.Join {
		ps.CheckHostPort(fmt.Sprintf("join[%d]", i), j)
	}
	if c.Replicas < 1 || c.Replicas > 7 {
		ps.Add("replicas", "must be between 1 and 7, got %d", c.Replicas)
	}
	if c.Shards < 1 || c.Shards > MaxShards {
		ps.Add("shards", "must be between 1 and %d, got %d", MaxShards, c.Shards)
	}
	if c.RequestTimeout <= 0 {
		ps.Add("request_timeout", "must be positive, got %v", c.RequestTimeout)
	}
	if len(c.NodeID) > 64 {
		ps.Add("node_id", "at most 64 characters")
	}
	t := c.Tuning
	if t.HeartbeatTimeout < 5*time.Millisecond {
		ps.Add("tuning.heartbeat_timeout", "must be at least 5ms, got %v", t.HeartbeatTimeout)
	}
	if t.ElectionTimeout < t.HeartbeatTimeout {
		ps.Add("tuning.election_timeout", "must be at least heartbeat_timeout (%v), got %v", t.HeartbeatTimeout, t.ElectionTimeout)
	}
	if t.LeaderLeaseTimeout <= 0 || t.LeaderLeaseTimeout > t.HeartbeatTimeout {
		ps.Add("tuning.leader_lease_timeout", "must be positive and at most heartbeat_timeout, got %v", t.LeaderLeaseTimeout)
	}
	if t.SnapshotThreshold < 1 {
		ps.Add("tuning.snapshot_threshold", "must be positive")
	}
	if t.SyncInterval < 0 || t.SyncInterval > 100*time.Millisecond {
		ps.Add("tuning.sync_interval", "must be between 0 and 100ms, got %v", t.SyncInterval)
	}
	if t.SnapshotInterval < 5*time.Millisecond {
		ps.Add("tuning.snapshot_interval", "must be at least 5ms, got %v", t.SnapshotInterval)
	}
	return ps.Err()
}

// ListenAddrs implements daemon.Config: the KV API, admin, Raft and gossip.
func (c *Config) ListenAddrs() []*string {
	return append(c.Common.ListenAddrs(), &c.Raft, &c.Gossip)
}

// Spec is kvd for the daemon runtime.
func Spec() *daemon.Spec[Config, *Config] { return SpecWith(Options{}) }

// SpecWith is Spec with test hooks (fault injection).
func SpecWith(opts Options) *daemon.Spec[Config, *Config] {
	return &daemon.Spec[Config, *Config]{
		Name:     "kvd",
		Summary:  "a sharded, Raft-replicated key-value store",
		Defaults: DefaultConfig,
		Flags: []config.Flag[Config]{
			config.String("node-id", "this node's `name` in the cluster", func(c *Config) *string { return &c.NodeID }),
			config.String("raft", "Raft `address` shared by every shard", func(c *Config) *string { return &c.Raft }),
			config.String("gossip", "gossip (memberlist) `address`", func(c *Config) *string { return &c.Gossip }),
			config.Strings("join", "gossip `addresses` of running members (absent: start a new cluster)", func(c *Config) *[]string { return &c.Join }),
			config.Int("replicas", "replicas per shard (`N`)", func(c *Config) *int { return &c.Replicas }),
			config.Int("shards", "shard count (`N`), fixed at cluster creation", func(c *Config) *int { return &c.Shards }),
		},
		New: func(cfg Config, env daemon.Env) (daemon.Service, error) { return New(cfg, env, opts) },
	}
}
