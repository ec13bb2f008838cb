package kvd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/hashicorp/raft"

	"github.com/anvilstack/anvil/kvd/placement"
	"github.com/anvilstack/anvil/pkg/admin"
)

// ClusterStatus is the reply of GET /v1/cluster.
type ClusterStatus struct {
	Node    string `json:"node"`    // the node that answered
	Healthy bool   `json:"healthy"` // every shard has a leader and its full replica set, all alive
	// Balanced: no alive node leads more than its share of the shards
	// (leadership moves for balance answer some in-flight writes 503).
	Balanced   bool          `json:"balanced"`
	Shards     int           `json:"shards"`
	Replicas   int           `json:"replicas"`
	MapVersion uint64        `json:"map_version"`
	MetaLeader string        `json:"meta_leader"`
	Nodes      []NodeStatus  `json:"nodes"`
	ShardMap   []ShardStatus `json:"shard_map"`
}

// NodeStatus is one node in ClusterStatus.
type NodeStatus struct {
	Name     string `json:"name"`
	API      string `json:"api"`
	Raft     string `json:"raft"`
	Gossip   string `json:"gossip"`
	Admin    string `json:"admin"`
	State    string `json:"state"` // alive, unreachable, removed
	Leads    int    `json:"leads"`
	Replicas int    `json:"replicas"`
}

// ShardStatus is one shard in ClusterStatus; the Raft figures are the
// answering node's replica's, when it has one.
type ShardStatus struct {
	ID           int      `json:"id"`
	Replicas     []string `json:"replicas"`
	Leader       string   `json:"leader"`
	Voters       []string `json:"voters,omitempty"`
	Term         uint64   `json:"term,omitempty"`
	CommitIndex  uint64   `json:"commit_index,omitempty"`
	AppliedIndex uint64   `json:"applied_index,omitempty"`
	Healthy      bool     `json:"healthy"`
}

// Status reports the cluster as this node sees it.
func (s *Service) Status() ClusterStatus {
	m := s.meta.current()
	_, metaLeader := s.meta.raft.LeaderWithID()
	st := ClusterStatus{Node: s.name, Shards: len(m.Shards), Replicas: m.Replicas, MapVersion: m.Version, MetaLeader: string(metaLeader)}
	leads := map[string]int{}
	hosted := map[string]int{}
	st.Healthy = m.Initialized()
	target := m.Target()
	for _, sh := range m.Shards {
		ss := ShardStatus{ID: sh.ID, Replicas: slices.Clone(sh.Replicas), Leader: s.shardLeader(sh.ID)}
		g := s.group(sh.ID)
		if g != nil {
			ss.Term = g.raft.CurrentTerm()
			ss.CommitIndex = g.raft.CommitIndex()
			ss.AppliedIndex = g.fsm.Applied()
			if f := g.raft.GetConfiguration(); f.Error() == nil {
				for _, srv := range f.Configuration().Servers {
					if srv.Suffrage == raft.Voter {
						ss.Voters = append(ss.Voters, string(srv.ID))
					}
				}
				sort.Strings(ss.Voters)
			}
		}
		ss.Healthy = ss.Leader != "" && len(sh.Replicas) >= target
		for _, r := range sh.Replicas {
			hosted[r]++
			if !s.alive(r) {
				ss.Healthy = false
			}
		}
		if g != nil && len(ss.Voters) != len(sh.Replicas) {
			ss.Healthy = false // configuration change in progress
		}
		if ss.Leader != "" {
			leads[ss.Leader]++
		}
		st.Healthy = st.Healthy && ss.Healthy
		st.ShardMap = append(st.ShardMap, ss)
	}
	for _, n := range m.Nodes {
		state := "alive"
		switch {
		case n.Removed:
			state = "removed"
		case !s.alive(n.Name):
			state = "unreachable"
		}
		st.Nodes = append(st.Nodes, NodeStatus{Name: n.Name, API: n.API, Raft: n.Raft, Gossip: n.Gossip, Admin: n.Admin,
			State: state, Leads: leads[n.Name], Replicas: hosted[n.Name]})
	}
	sort.Slice(st.Nodes, func(i, j int) bool { return m.Nodes[st.Nodes[i].Name].Seq < m.Nodes[st.Nodes[j].Name].Seq })
	alive := 0
	for _, n := range st.Nodes {
		if n.State == "alive" {
			alive++
		}
	}
	st.Balanced = st.Healthy && alive > 0
	if st.Balanced {
		fair := (len(m.Shards) + alive - 1) / alive
		for _, n := range st.Nodes {
			if n.Leads > fair {
				st.Balanced = false
			}
		}
	}
	return st
}

func (s *Service) serveCluster(w http.ResponseWriter, r *http.Request) {
	if s.meta == nil {
		s.unavailable(w, "starting")
		return
	}
	admin.WriteJSON(w, http.StatusOK, s.Status())
}

// serveRemoveNode removes a node from the cluster (DELETE
// /v1/cluster/nodes/{name} on the admin API): the metadata leader marks it
// removed, which drops it from every shard's replica set; replacements
// are then placed on the remaining nodes. Any node accepts the request and
// passes it to the metadata leader.
func (s *Service) serveRemoveNode(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if s.meta == nil {
		s.unavailable(w, "starting")
		return
	}
	m := s.meta.current()
	n, ok := m.Nodes[name]
	if !ok {
		admin.WriteError(w, http.StatusNotFound, fmt.Sprintf("no node %q in the cluster", name))
		return
	}
	if n.Removed {
		admin.WriteJSON(w, http.StatusOK, map[string]any{"removed": name, "already": true})
		return
	}
	if len(m.Active()) <= 1 {
		admin.WriteError(w, http.StatusConflict, "cannot remove the last node")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	for {
		if s.meta.isLeader() {
			err := s.meta.propose(placement.Command{Op: "remove_node", Name: name})
			if err == nil {
				s.log.Info("node removed from the cluster", "peer", name)
				s.kick()
				admin.WriteJSON(w, http.StatusOK, map[string]any{"removed": name})
				return
			}
			if !errors.Is(err, errNotLeader) {
				admin.WriteError(w, http.StatusConflict, err.Error())
				return
			}
		} else if _, id := s.meta.raft.LeaderWithID(); id != "" {
			if leader, ok := m.Nodes[string(id)]; ok && leader.Admin != "" {
				if s.forwardAdmin(ctx, w, r, leader.Admin) {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			s.unavailable(w, "no metadata leader reachable")
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Service) forwardAdmin(ctx context.Context, w http.ResponseWriter, r *http.Request, target string) bool {
	req, err := http.NewRequestWithContext(ctx, r.Method, "http://"+target+r.URL.RequestURI(), nil)
	if err != nil {
		return false
	}
	if a := r.Header.Get("Authorization"); a != "" {
		req.Header.Set("Authorization", a)
	}
	resp, err := s.fwd.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusServiceUnavailable {
		return false
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
	return true
}
