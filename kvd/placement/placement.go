// Package placement is kvd's shard map and the pure decisions made on it:
// which shard owns a key, which node should receive a new replica, and
// which leader should move to balance writes. The map itself is replicated
// by the metadata Raft group (see package kvd); everything here is a
// function of the map and the live-node set, so it is tested without a
// cluster.
package placement

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
)

// ShardOf is the shard that owns key among n shards: FNV-1a of the key,
// modulo n. It must never change: a key's shard is fixed at creation.
func ShardOf(key []byte, n int) int {
	h := fnv.New64a()
	_, _ = h.Write(key)
	return int(h.Sum64() % uint64(n))
}

// Node is one member of the cluster as the map records it.
type Node struct {
	Name    string `json:"name"`
	API     string `json:"api"`
	Raft    string `json:"raft"`
	Gossip  string `json:"gossip"`
	Admin   string `json:"admin"`
	Removed bool   `json:"removed,omitempty"` // removed by an operator; never placed again
	Seq     uint64 `json:"seq"`               // join order (the first nodes vote in the metadata group)
}

// Shard is one shard's replica set.
type Shard struct {
	ID       int      `json:"id"`
	Replicas []string `json:"replicas"`
	// Bootstrap names the node that creates the shard's Raft group with
	// itself as the only voter (the first node of the cluster).
	Bootstrap string `json:"bootstrap,omitempty"`
}

// Map is the whole placement state. A Map is immutable once published:
// apply changes to a Clone.
type Map struct {
	Version  uint64           `json:"version"`
	Shards   []Shard          `json:"shards"`
	Replicas int              `json:"replicas"` // target replica count per shard
	Nodes    map[string]*Node `json:"nodes"`
	NextSeq  uint64           `json:"next_seq"`
}

// Initialized reports whether the cluster has been created.
func (m *Map) Initialized() bool { return m != nil && len(m.Shards) > 0 }

// Clone returns a deep copy.
func (m *Map) Clone() *Map {
	c := &Map{Version: m.Version, Replicas: m.Replicas, NextSeq: m.NextSeq, Nodes: map[string]*Node{}}
	for k, n := range m.Nodes {
		nn := *n
		c.Nodes[k] = &nn
	}
	c.Shards = make([]Shard, len(m.Shards))
	for i, s := range m.Shards {
		c.Shards[i] = Shard{ID: s.ID, Replicas: slices.Clone(s.Replicas), Bootstrap: s.Bootstrap}
	}
	return c
}

// Member reports whether name is a node of the map that has not been removed.
func (m *Map) Member(name string) bool {
	n, ok := m.Nodes[name]
	return ok && !n.Removed
}

// Active returns the names of nodes not removed, in join order.
func (m *Map) Active() []string {
	var out []*Node
	for _, n := range m.Nodes {
		if !n.Removed {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	names := make([]string, len(out))
	for i, n := range out {
		names[i] = n.Name
	}
	return names
}

// Target is the replica count a shard should have: the configured count,
// or the number of active nodes if smaller.
func (m *Map) Target() int { return min(m.Replicas, len(m.Active())) }

// Hosts reports whether node holds a replica of shard.
func (m *Map) Hosts(shard int, node string) bool {
	return slices.Contains(m.Shards[shard].Replicas, node)
}

// Command is a change to the map, replicated through the metadata group.
type Command struct {
	Op       string   `json:"op"` // init, add_node, remove_node, set_replicas
	Node     *Node    `json:"node,omitempty"`
	Name     string   `json:"name,omitempty"`
	Shards   int      `json:"shards,omitempty"`
	Replicas int      `json:"replicas,omitempty"`
	Shard    int      `json:"shard,omitempty"`
	Set      []string `json:"set,omitempty"`
	// Version, when not 0, makes the command conditional: it applies only
	// to the map version it was planned on (set_replicas).
	Version uint64 `json:"version,omitempty"`
}

// Apply returns the map after c, or an error that leaves m unchanged.
func Apply(m *Map, c Command) (*Map, error) {
	if c.Version != 0 && c.Version != m.Version {
		return nil, fmt.Errorf("map changed (version %d, planned on %d)", m.Version, c.Version)
	}
	n := m.Clone()
	switch c.Op {
	case "init":
		if m.Initialized() {
			return nil, fmt.Errorf("cluster already initialized")
		}
		if c.Shards < 1 || c.Replicas < 1 || c.Node == nil {
			return nil, fmt.Errorf("init needs shards, replicas and the first node")
		}
		n.Replicas = c.Replicas
		node := *c.Node
		node.Seq = n.NextSeq
		n.NextSeq++
		n.Nodes[node.Name] = &node
		for i := 0; i < c.Shards; i++ {
			n.Shards = append(n.Shards, Shard{ID: i, Replicas: []string{node.Name}, Bootstrap: node.Name})
		}
	case "add_node":
		if c.Node == nil || c.Node.Name == "" {
			return nil, fmt.Errorf("add_node needs a node")
		}
		old, ok := n.Nodes[c.Node.Name]
		if ok && old.Removed {
			return nil, fmt.Errorf("node %q was removed; a removed name cannot rejoin", c.Node.Name)
		}
		node := *c.Node
		if ok {
			node.Seq = old.Seq // address update
		} else {
			node.Seq = n.NextSeq
			n.NextSeq++
		}
		n.Nodes[node.Name] = &node
	case "remove_node":
		node, ok := n.Nodes[c.Name]
		if !ok {
			return nil, fmt.Errorf("no node %q", c.Name)
		}
		if node.Removed {
			return nil, fmt.Errorf("node %q already removed", c.Name)
		}
		node.Removed = true
		for i := range n.Shards {
			n.Shards[i].Replicas = slices.DeleteFunc(n.Shards[i].Replicas, func(s string) bool { return s == c.Name })
		}
	case "set_replicas":
		if c.Shard < 0 || c.Shard >= len(n.Shards) {
			return nil, fmt.Errorf("no shard %d", c.Shard)
		}
		for _, r := range c.Set {
			if !n.Member(r) {
				return nil, fmt.Errorf("shard %d: %q is not an active node", c.Shard, r)
			}
		}
		n.Shards[c.Shard].Replicas = slices.Clone(c.Set)
	default:
		return nil, fmt.Errorf("unknown map command %q", c.Op)
	}
	n.Version++
	return n, nil
}

// Encode is the JSON form of c.
func (c Command) Encode() []byte {
	b, _ := json.Marshal(c)
	return b
}

// Plan returns the next replica-set changes that bring shards up to the
// target count, adding one replica per shard per call, each on the alive
// active node that holds the fewest replicas (ties broken by join order).
// Shards whose leader is not yet known are skipped by the caller.
func Plan(m *Map, alive func(name string) bool) []Command {
	if !m.Initialized() {
		return nil
	}
	target := m.Target()
	load := map[string]int{}
	active := m.Active()
	for _, name := range active {
		load[name] = 0
	}
	for _, s := range m.Shards {
		for _, r := range s.Replicas {
			load[r]++
		}
	}
	var out []Command
	for _, s := range m.Shards {
		if len(s.Replicas) >= target {
			continue
		}
		best := ""
		for _, name := range active {
			if slices.Contains(s.Replicas, name) || !alive(name) {
				continue
			}
			if best == "" || load[name] < load[best] {
				best = name
			}
		}
		if best == "" {
			continue
		}
		load[best]++
		set := append(slices.Clone(s.Replicas), best)
		out = append(out, Command{Op: "set_replicas", Shard: s.ID, Set: set})
	}
	return out
}

// Transfer is a leadership move for balancing.
type Transfer struct {
	Shard int
	To    string
}

// Balance returns at most one leadership transfer that moves a shard led
// by self to a replica holding fewer leaderships, when self leads more
// than its fair share (ceil(shards / voters)). leaders maps shard to its
// current leader's name ("" unknown); alive filters candidates.
func Balance(m *Map, self string, leaders map[int]string, alive func(string) bool) (Transfer, bool) {
	nodes := 0
	for _, name := range m.Active() {
		if alive(name) {
			nodes++
		}
	}
	if nodes < 2 {
		return Transfer{}, false
	}
	fair := (len(m.Shards) + nodes - 1) / nodes
	count := map[string]int{}
	for _, l := range leaders {
		if l != "" {
			count[l]++
		}
	}
	if count[self] <= fair {
		return Transfer{}, false
	}
	ids := make([]int, 0, len(leaders))
	for id, l := range leaders {
		if l == self {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	for _, id := range ids {
		best := ""
		for _, r := range m.Shards[id].Replicas {
			if r == self || !alive(r) || count[r] >= fair {
				continue
			}
			if best == "" || count[r] < count[best] {
				best = r
			}
		}
		if best != "" {
			return Transfer{Shard: id, To: best}, true
		}
	}
	return Transfer{}, false
}
