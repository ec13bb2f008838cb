package kvd

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/raft"

	"github.com/anvilstack/anvil/kvd/fsm"
	"github.com/anvilstack/anvil/kvd/placement"
	"github.com/anvilstack/anvil/pkg/membership"
	"github.com/anvilstack/anvil/pkg/raftstore"
)

// metaVoters is how many active nodes vote in the metadata group.
const metaVoters = 3

// unlistedGrace is how long a current map must leave a shard off this
// node before its replica here is deleted.
const unlistedGrace = 3 * time.Second

// joinLoop joins the gossip cluster through -join, or, on a restart, through
// the members the stored map remembers, retrying until one answers.
func (s *Service) joinLoop(ctx context.Context) {
	delay := 100 * time.Millisecond
	for {
		addrs := append([]string(nil), s.cfg.Join...)
		for _, n := range s.meta.current().Nodes {
			if n.Name != s.name && !n.Removed && n.Gossip != "" {
				addrs = append(addrs, n.Gossip)
			}
		}
		if len(addrs) == 0 {
			if s.meta.bootstrapped {
				return // a new cluster: the others join us
			}
		} else if n, err := s.members.Join(addrs); err == nil && n > 0 {
			s.log.Info("joined the gossip cluster", "contacted", n)
			return
		} else if err != nil {
			s.log.Debug("gossip join failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// controlLoop reconciles this node with the map: it runs the metadata
// leader's duties when it holds that role, opens and closes local shard
// replicas, makes the configuration of every group it leads match the map,
// balances leadership, proposes TTL ticks and gossips what it leads.
func (s *Service) controlLoop(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var lastBalance, lastTTL time.Time
	lastLead := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.wake:
		case <-s.members.Changed():
			s.refreshHints()
		}
		s.refreshHints()
		if s.meta.isLeader() {
			s.metaLeaderDuties()
		}
		m := s.meta.current()
		if !m.Initialized() {
			continue
		}
		s.syncGroups(ctx, m)
		s.reconcileConfigs(m)
		now := time.Now()
		if now.Sub(lastTTL) >= 250*time.Millisecond {
			lastTTL = now
			s.proposeTicks()
		}
		if now.Sub(lastBalance) >= time.Second {
			lastBalance = now
			s.balance(m)
		}
		if lead := s.leadBitmap(); lead != lastLead {
			lastLead = lead
			info := memberInfo{API: s.self.API, Raft: s.self.Raft, Admin: s.self.Admin, Lead: lead}
			b, _ := json.Marshal(info)
			if err := s.members.SetMeta(b); err != nil {
				s.log.Debug("gossip metadata update", "err", err)
			}
		}
	}
}

// refreshHints rebuilds the gossip view of the other nodes.
func (s *Service) refreshHints() {
	out := map[string]memberInfo{}
	for _, mb := range s.members.Members() {
		var info memberInfo
		if json.Unmarshal(mb.Meta, &info) == nil && mb.State == membership.Alive {
			out[mb.Name] = info
		}
	}
	s.hints.Store(&out)
}

// alive reports whether gossip currently sees name (this node always is).
func (s *Service) alive(name string) bool {
	if name == s.name {
		return true
	}
	_, ok := (*s.hints.Load())[name]
	return ok
}

// metaLeaderDuties: create the cluster, add gossiping nodes to the map and
// to the metadata group, and place missing replicas.
func (s *Service) metaLeaderDuties() {
	m := s.meta.current()
	if !m.Initialized() {
		self := s.self
		err := s.meta.propose(placement.Command{Op: "init", Node: &self, Shards: s.cfg.Shards, Replicas: s.cfg.Replicas})
		if err != nil {
			s.log.Warn("initialize cluster", "err", err)
		} else {
			s.log.Info("cluster created", "shards", s.cfg.Shards, "replicas", s.cfg.Replicas)
		}
		return
	}
	// Nodes: this one and every alive gossip member, with current addresses.
	want := map[string]placement.Node{s.name: s.self}
	for _, mb := range s.members.Members() {
		var info memberInfo
		if mb.State != membership.Alive || json.Unmarshal(mb.Meta, &info) != nil || info.Raft == "" {
			continue
		}
		want[mb.Name] = placement.Node{Name: mb.Name, API: info.API, Raft: info.Raft, Admin: info.Admin, Gossip: mb.Addr}
	}
	for name, n := range want {
		old, ok := m.Nodes[name]
		if ok && (old.Removed || (old.API == n.API && old.Raft == n.Raft && old.Admin == n.Admin && old.Gossip == n.Gossip)) {
			continue
		}
		n := n
		if err := s.meta.propose(placement.Command{Op: "add_node", Node: &n}); err != nil {
			s.log.Warn("add node to the map", "peer", name, "err", err)
			return
		}
		s.log.Info("node added to the map", "peer", name, "raft", n.Raft)
		m = s.meta.current()
	}
	s.reconcileMetaConfig(m)
	for _, c := range placement.Plan(m, s.alive) {
		if err := s.meta.propose(c); err != nil {
			s.log.Warn("place replica", "shard", c.Shard, "err", err)
			return
		}
		s.log.Info("replica placed", "shard", c.Shard, "replicas", c.Set)
	}
}

// reconcileMetaConfig makes the metadata group's membership match the
// map: the first active nodes vote, the others follow, removed nodes go.
func (s *Service) reconcileMetaConfig(m *placement.Map) {
	f := s.meta.raft.GetConfiguration()
	if f.Error() != nil {
		return
	}
	servers := map[raft.ServerID]raft.Server{}
	for _, srv := range f.Configuration().Servers {
		servers[srv.ID] = srv
	}
	active := m.Active()
	voters := 0
	for _, name := range active {
		if srv, ok := servers[raft.ServerID(name)]; ok && srv.Suffrage == raft.Voter {
			voters++
		}
	}
	for _, name := range active {
		n := m.Nodes[name]
		srv, ok := servers[raft.ServerID(name)]
		if ok && srv.Address == raft.ServerAddress(n.Raft) && (srv.Suffrage == raft.Voter || voters >= metaVoters) {
			continue
		}
		if !s.alive(name) {
			continue
		}
		var err error
		if (ok && srv.Suffrage == raft.Voter) || voters < metaVoters {
			if !(ok && srv.Suffrage == raft.Voter) {
				voters++
			}
			err = s.meta.raft.AddVoter(raft.ServerID(name), raft.ServerAddress(n.Raft), 0, 5*time.Second).Error()
		} else {
			err = s.meta.raft.AddNonvoter(raft.ServerID(name), raft.ServerAddress(n.Raft), 0, 5*time.Second).Error()
		}
		if err != nil {
			s.log.Warn("metadata group membership", "peer", name, "err", err)
			return
		}
	}
	for id := range servers {
		if m.Member(string(id)) {
			continue
		}
		if string(id) == s.name {
			_ = s.meta.raft.LeadershipTransfer().Error()
			return
		}
		if err := s.meta.raft.RemoveServer(id, 0, 5*time.Second).Error(); err != nil {
			s.log.Warn("remove node from the metadata group", "peer", id, "err", err)
			return
		}
	}
}

// syncGroups opens a local replica for every shard the map places here and
// closes (and deletes) replicas the map no longer places here.
func (s *Service) syncGroups(ctx context.Context, m *placement.Map) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	var gone []*shard
	for _, sh := range m.Shards {
		_, open := s.groups[sh.ID]
		hosts := m.Hosts(sh.ID, s.name) && m.Member(s.name)
		if hosts {
			delete(s.unlisted, sh.ID)
		}
		switch {
		case hosts && !open:
			bootstrap := sh.Bootstrap == s.name && len(sh.Replicas) == 1 && sh.Replicas[0] == s.name
			g, err := s.openShard(sh.ID, bootstrap)
			if err != nil {
				s.log.Error("open shard replica", "shard", sh.ID, "err", err)
				continue
			}
			s.groups[sh.ID] = g
			changed = true
		case !hosts && open:
			// Deleting a replica that is still a voter would be a lost
			// disk to Raft, so only act on a map known to be current
			// (a restarted node starts from an old one) that has left
			// this shard off for a while.
			if !s.meta.caughtUp() {
				continue
			}
			since, ok := s.unlisted[sh.ID]
			if !ok {
				s.unlisted[sh.ID] = time.Now()
				continue
			}
			if time.Since(since) < unlistedGrace {
				continue
			}
			g := s.groups[sh.ID]
			if g.isLeader() && g.voters() > 1 {
				_ = g.raft.LeadershipTransfer().Error()
				continue // the new leader removes this replica
			}
			delete(s.groups, sh.ID)
			delete(s.unlisted, sh.ID)
			changed = true
			gone = append(gone, g)
		}
	}
	if changed || len(*s.table.Load()) != len(m.Shards) {
		table := make([]*shard, len(m.Shards))
		for id, g := range s.groups {
			if id < len(table) {
				table[id] = g
			}
		}
		s.table.Store(&table)
	}
	// Requests no longer find these replicas; now they can go.
	for _, g := range gone {
		if err := g.close(); err != nil {
			s.log.Warn("close shard replica", "shard", g.id, "err", err)
		}
		if err := s.dropShardData(g.id); err != nil {
			s.log.Warn("delete shard replica data", "shard", g.id, "err", err)
		}
		s.log.Info("shard replica removed from this node", "shard", g.id)
	}
}

func (s *Service) dropShardData(id int) error {
	if err := raftstore.DeleteGroup(s.db, uint32(id)); err != nil {
		return err
	}
	if err := fsm.Delete(s.db, uint32(id)); err != nil {
		return err
	}
	return os.RemoveAll(s.dataPath("shards", strconv.Itoa(id)))
}

// reconcileConfigs: for every group this node leads, add the replicas the
// map lists and remove the ones it no longer lists, one change at a time.
func (s *Service) reconcileConfigs(m *placement.Map) {
	for _, g := range *s.table.Load() {
		if g == nil || !g.isLeader() {
			continue
		}
		f := g.raft.GetConfiguration()
		if f.Error() != nil {
			continue
		}
		current := f.Configuration().Servers
		want := m.Shards[g.id].Replicas
		for _, name := range want {
			n, ok := m.Nodes[name]
			if !ok || !s.alive(name) {
				continue
			}
			i := slices.IndexFunc(current, func(srv raft.Server) bool { return srv.ID == raft.ServerID(name) })
			if i >= 0 && current[i].Address == raft.ServerAddress(n.Raft) && current[i].Suffrage == raft.Voter {
				continue
			}
			if err := g.raft.AddVoter(raft.ServerID(name), raft.ServerAddress(n.Raft), 0, 5*time.Second).Error(); err != nil {
				s.log.Warn("add shard replica", "shard", g.id, "peer", name, "err", err)
				break
			}
			s.log.Info("shard replica added", "shard", g.id, "peer", name)
		}
		for _, srv := range current {
			if slices.Contains(want, string(srv.ID)) || string(srv.ID) == s.name {
				continue
			}
			if err := g.raft.RemoveServer(srv.ID, 0, 5*time.Second).Error(); err != nil {
				s.log.Warn("remove shard replica", "shard", g.id, "peer", srv.ID, "err", err)
				break
			}
			s.log.Info("shard replica removed", "shard", g.id, "peer", srv.ID)
		}
	}
}

// proposeTicks moves the state machine's time forward on every shard this
// node leads where a key is due to expire.
func (s *Service) proposeTicks() {
	now := time.Now().UnixMilli()
	for _, g := range *s.table.Load() {
		if g == nil || !g.isLeader() {
			continue
		}
		if exp, ok := g.fsm.NextExpiry(); ok && exp <= now {
			if _, err := g.propose(fsm.Command{Op: fsm.OpTick}); err != nil && !errors.Is(err, errNotLeader) {
				s.log.Debug("ttl tick", "shard", g.id, "err", err)
			}
		}
	}
}

// balance hands one shard's leadership to a less loaded replica when this
// node leads more than its share.
func (s *Service) balance(m *placement.Map) {
	leaders := map[int]string{}
	for id := range m.Shards {
		leaders[id] = s.shardLeader(id)
	}
	t, ok := placement.Balance(m, s.name, leaders, s.alive)
	if !ok {
		return
	}
	g := (*s.table.Load())[t.Shard]
	n := m.Nodes[t.To]
	if g == nil || n == nil || !g.isLeader() {
		return
	}
	// Only to a voter already in the group's configuration.
	f := g.raft.GetConfiguration()
	if f.Error() != nil || !slices.ContainsFunc(f.Configuration().Servers, func(srv raft.Server) bool {
		return srv.ID == raft.ServerID(t.To) && srv.Suffrage == raft.Voter
	}) {
		return
	}
	if err := g.raft.LeadershipTransferToServer(raft.ServerID(t.To), raft.ServerAddress(n.Raft)).Error(); err != nil {
		s.log.Debug("leadership transfer", "shard", t.Shard, "to", t.To, "err", err)
		return
	}
	s.m.transfers.Inc()
	s.log.Debug("leadership moved for balance", "shard", t.Shard, "to", t.To)
}

// shardLeader is the best knowledge of a shard's leader: the local
// replica's, else the gossip of the node that says it leads it.
func (s *Service) shardLeader(id int) string {
	table := *s.table.Load()
	if id < len(table) && table[id] != nil {
		return table[id].leaderName()
	}
	for name, info := range *s.hints.Load() {
		if leads(info.Lead, id) {
			return name
		}
	}
	return ""
}
