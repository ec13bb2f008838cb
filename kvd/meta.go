package kvd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/anvilstack/anvil/kvd/placement"
	"github.com/anvilstack/anvil/pkg/raftstore"
)

// metaGroup is this node's replica of the metadata Raft group, which
// replicates the shard map. Every node holds one (the first three active
// nodes vote, the others follow as non-voters), so every node routes from
// a local copy of the map.
type metaGroup struct {
	s            *Service
	raft         *raft.Raft
	trans        *raftstore.Transport
	fsm          *metaFSM
	bootstrapped bool
}

type metaFSM struct {
	cur     atomic.Pointer[placement.Map]
	changed func()
}

func emptyMap() *placement.Map { return &placement.Map{Nodes: map[string]*placement.Node{}} }

// Apply implements raft.FSM; a command that does not apply returns its error.
func (f *metaFSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	var c placement.Command
	if err := json.Unmarshal(l.Data, &c); err != nil {
		return fmt.Errorf("decode map command: %w", err)
	}
	next, err := placement.Apply(f.cur.Load(), c)
	if err != nil {
		return err
	}
	f.cur.Store(next)
	f.changed()
	return nil
}

// Snapshot implements raft.FSM: the map is small and immutable, so the
// snapshot is the pointer.
func (f *metaFSM) Snapshot() (raft.FSMSnapshot, error) { return mapSnapshot{f.cur.Load()}, nil }

// Restore implements raft.FSM.
func (f *metaFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	m := emptyMap()
	if err := json.NewDecoder(rc).Decode(m); err != nil {
		return fmt.Errorf("restore map: %w", err)
	}
	if m.Nodes == nil {
		m.Nodes = map[string]*placement.Node{}
	}
	f.cur.Store(m)
	f.changed()
	return nil
}

type mapSnapshot struct{ m *placement.Map }

func (s mapSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode(s.m); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (mapSnapshot) Release() {}

func openMeta(s *Service) (*metaGroup, error) {
	store, err := raftstore.Open(s.db, metaGroupID)
	if err != nil {
		return nil, err
	}
	dir := s.dataPath("meta")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logger := raftstore.Logger(s.log.With("group", "meta"))
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, logger)
	if err != nil {
		return nil, err
	}
	trans, err := s.newTransport(metaGroupID)
	if err != nil {
		return nil, err
	}
	f := &metaFSM{changed: s.kick}
	f.cur.Store(emptyMap())
	conf := s.raftConfig("meta")
	conf.SnapshotThreshold = 1024
	conf.TrailingLogs = 1024
	existing, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		trans.Close()
		return nil, err
	}
	r, err := raft.NewRaft(conf, f, store, store, snaps, trans)
	if err != nil {
		trans.Close()
		return nil, fmt.Errorf("start metadata group: %w", err)
	}
	g := &metaGroup{s: s, raft: r, trans: trans, fsm: f}
	if !existing && len(s.cfg.Join) == 0 {
		err := r.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter, ID: raft.ServerID(s.name), Address: raft.ServerAddress(s.self.Raft),
		}}}).Error()
		if err != nil {
			g.close()
			return nil, fmt.Errorf("bootstrap metadata group: %w", err)
		}
		g.bootstrapped = true
	}
	return g, nil
}

func (g *metaGroup) close() {
	_ = g.raft.Shutdown().Error()
	g.trans.Close()
}

func (g *metaGroup) current() *placement.Map { return g.fsm.cur.Load() }

func (g *metaGroup) isLeader() bool { return g.raft.State() == raft.Leader }

// caughtUp reports whether this replica's map is current: it is the
// leader, or it hears from one and has applied what that leader committed.
func (g *metaGroup) caughtUp() bool {
	if g.isLeader() {
		return true
	}
	if addr, _ := g.raft.LeaderWithID(); addr == "" {
		return false
	}
	if time.Since(g.raft.LastContact()) > 2*g.s.cfg.Tuning.HeartbeatTimeout {
		return false
	}
	return g.raft.AppliedIndex() >= g.raft.CommitIndex() && g.raft.CommitIndex() > 0
}

// propose applies a map command through the group; only the leader can.
func (g *metaGroup) propose(c placement.Command) error {
	f := g.raft.Apply(c.Encode(), 5*time.Second)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) {
			return errNotLeader
		}
		return err
	}
	if err, ok := f.Response().(error); ok {
		return err
	}
	return nil
}
