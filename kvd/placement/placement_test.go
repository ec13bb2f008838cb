package placement

import (
	"fmt"
	"testing"
)

func node(name string) *Node { return &Node{Name: name, Raft: name + ":7071"} }

func mustApply(t *testing.T, m *Map, c Command) *Map {
	t.Helper()
	n, err := Apply(m, c)
	if err != nil {
		t.Fatalf("%s: %v", c.Op, err)
	}
	return n
}

func all(string) bool { return true }

// A cluster grows from one node to three: every shard reaches three
// replicas, spread evenly; removing a node drops it everywhere and the
// plan restores the count on the others.
func TestPlanGrowAndRemove(t *testing.T) {
	m := &Map{Nodes: map[string]*Node{}}
	m = mustApply(t, m, Command{Op: "init", Node: node("a"), Shards: 6, Replicas: 3})
	if _, err := Apply(m, Command{Op: "init", Node: node("a"), Shards: 6, Replicas: 3}); err == nil {
		t.Fatal("second init accepted")
	}
	for _, n := range []string{"b", "c", "d"} {
		m = mustApply(t, m, Command{Op: "add_node", Node: node(n)})
	}
	for round := 0; round < 5; round++ {
		for _, c := range Plan(m, all) {
			m = mustApply(t, m, c)
		}
	}
	load := map[string]int{}
	for _, s := range m.Shards {
		if len(s.Replicas) != 3 {
			t.Fatalf("shard %d has %v", s.ID, s.Replicas)
		}
		for _, r := range s.Replicas {
			load[r]++
		}
	}
	// the first node keeps every shard it created; the twelve new
	// replicas go evenly to the three others (moving replicas is not
	// placement's job)
	if load["a"] != 6 || load["b"] != 4 || load["c"] != 4 || load["d"] != 4 {
		t.Fatalf("unbalanced: %v", load)
	}
	m = mustApply(t, m, Command{Op: "remove_node", Name: "b"})
	if m.Member("b") || len(m.Active()) != 3 {
		t.Fatal("b still active")
	}
	for _, c := range Plan(m, all) {
		m = mustApply(t, m, c)
	}
	for _, s := range m.Shards {
		if len(s.Replicas) != 3 || m.Hosts(s.ID, "b") {
			t.Fatalf("after removal shard %d has %v", s.ID, s.Replicas)
		}
	}
	if _, err := Apply(m, Command{Op: "add_node", Node: node("b")}); err == nil {
		t.Fatal("a removed name rejoined")
	}
	if _, err := Apply(m, Command{Op: "set_replicas", Shard: 0, Set: []string{"b"}}); err == nil {
		t.Fatal("placed a replica on a removed node")
	}
}

// A dead node receives no new replica; the target is capped by the
// number of nodes.
func TestPlanSkipsDeadNodes(t *testing.T) {
	m := mustApply(t, &Map{Nodes: map[string]*Node{}}, Command{Op: "init", Node: node("a"), Shards: 2, Replicas: 3})
	m = mustApply(t, m, Command{Op: "add_node", Node: node("b")})
	if m.Target() != 2 {
		t.Fatalf("target %d with two nodes", m.Target())
	}
	if cs := Plan(m, func(n string) bool { return n != "b" }); len(cs) != 0 {
		t.Fatalf("planned onto a dead node: %v", cs)
	}
}

func TestBalance(t *testing.T) {
	m := mustApply(t, &Map{Nodes: map[string]*Node{}}, Command{Op: "init", Node: node("a"), Shards: 6, Replicas: 3})
	for _, n := range []string{"b", "c"} {
		m = mustApply(t, m, Command{Op: "add_node", Node: node(n)})
	}
	for _, c := range Plan(m, all) {
		m = mustApply(t, m, c)
	}
	leaders := map[int]string{}
	for i := 0; i < 6; i++ {
		leaders[i] = "a"
	}
	moved := 0
	for {
		tr, ok := Balance(m, "a", leaders, all)
		if !ok {
			break
		}
		leaders[tr.Shard] = tr.To
		if moved++; moved > 10 {
			t.Fatal("balance does not converge")
		}
	}
	count := map[string]int{}
	for _, l := range leaders {
		count[l]++
	}
	if count["a"] != 2 || count["b"]+count["c"] != 4 {
		t.Fatalf("after balancing: %v", count)
	}
}

func TestShardOfIsStable(t *testing.T) {
	// the hash is part of the on-disk format: a key's shard never changes
	want := map[string]int{"": 5, "a": 12, "user/42": ShardOf([]byte("user/42"), 16)}
	for k, w := range want {
		if got := ShardOf([]byte(k), 16); got != w {
			t.Errorf("ShardOf(%q) = %d, want %d", k, got, w)
		}
	}
	seen := map[int]int{}
	for i := 0; i < 1600; i++ {
		seen[ShardOf([]byte(fmt.Sprint("key", i)), 16)]++
	}
	for s, n := range seen {
		if n < 60 || n > 140 {
			t.Errorf("shard %d got %d of 1600 keys", s, n)
		}
	}
}
