package kvd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/anvilstack/anvil/kvd/fsm"
	"github.com/anvilstack/anvil/pkg/raftstore"
)

// metaGroupID is the metadata group's id on the mux and in the database;
// shard ids are 0..shards-1.
const metaGroupID = 1 << 30

// Errors that decide how a request is answered.
var (
	// errNotLeader: the request was certainly not executed here; the
	// caller may retry it elsewhere.
	errNotLeader = errors.New("not the shard leader")
	// errUnknown: the outcome is unknown (leadership lost after the
	// entry was appended, or shutdown); the reply is 503.
	errUnknown = errors.New("outcome unknown: leadership lost or shutting down")
)

// shard is one Raft group hosted on this node.
type shard struct {
	id    int
	s     *Service
	raft  *raft.Raft
	fsm   *fsm.FSM
	trans *raftstore.Transport
	inst  *instrumentedFSM

	readyTerm atomic.Uint64 // a term in which this node's barrier committed

	rmu     sync.Mutex // guards round, running
	round   *readRound
	running bool

	wmu      sync.Mutex // guards wpending, wrunning
	wpending []*proposal
	wrunning bool          // a runWrites goroutine is active
	wslots   chan struct{} // write rounds in flight (capacity maxWriteRounds)
}

// instrumentedFSM times every applied batch.
type instrumentedFSM struct {
	*fsm.FSM
	m *metrics
}

// ApplyBatch implements raft.BatchingFSM.
func (f *instrumentedFSM) ApplyBatch(logs []*raft.Log) []any {
	start := time.Now()
	out := f.FSM.ApplyBatch(logs)
	f.m.applySeconds.Observe(time.Since(start).Seconds())
	f.m.appliedEntries.Add(float64(len(logs)))
	return out
}

// newTransport is the Raft transport of group on the node's mux.
func (s *Service) newTransport(group uint32) (*raftstore.Transport, error) {
	return s.mux.NewTransport(raftstore.TransportConfig{Group: group, Local: raft.ServerAddress(s.self.Raft), Timeout: 5 * time.Second})
}

func (s *Service) raftConfig(id string) *raft.Config {
	t := s.cfg.Tuning
	c := raft.DefaultConfig()
	c.LocalID = raft.ServerID(s.name)
	c.HeartbeatTimeout = t.HeartbeatTimeout
	c.ElectionTimeout = t.ElectionTimeout
	c.LeaderLeaseTimeout = t.LeaderLeaseTimeout
	// Followers learn the commit index with the next append or after
	// CommitTimeout; nothing waits on that but stale reads on followers,
	// and with many groups the idle appends add up.
	c.CommitTimeout = t.HeartbeatTimeout / 2
	c.SnapshotThreshold = t.SnapshotThreshold
	c.TrailingLogs = t.TrailingLogs
	c.SnapshotInterval = t.SnapshotInterval
	c.MaxAppendEntries = 512
	c.BatchApplyCh = true
	c.Logger = raftstore.Logger(s.log.With("group", id))
	c.NoLegacyTelemetry = true
	return c
}

// openShard starts the local replica of shard id. With bootstrap and no
// state on disk it creates the group with this node as its only voter;
// otherwise it resumes from disk or waits for the leader to contact it.
func (s *Service) openShard(id int, bootstrap bool) (*shard, error) {
	name := strconv.Itoa(id)
	store, err := raftstore.Open(s.db, uint32(id))
	if err != nil {
		return nil, fmt.Errorf("shard %d: log store: %w", id, err)
	}
	f, err := fsm.Open(s.db, uint32(id))
	if err != nil {
		return nil, err
	}
	snapDir := s.dataPath("shards", name)
	if err := os.MkdirAll(snapDir, 0o755); err != nil {
		f.Close()
		return nil, err
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(snapDir, 2, raftstore.Logger(s.log.With("group", name)))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("shard %d: snapshot store: %w", id, err)
	}
	// Raft will not restore its latest snapshot at start (the state
	// machine is durable on its own), so if a crash interrupted the
	// restore of an installed snapshot, finish it now.
	if err := catchUpFromSnapshot(f, snaps); err != nil {
		f.Close()
		return nil, fmt.Errorf("shard %d: %w", id, err)
	}
	trans, err := s.newTransport(uint32(id))
	if err != nil {
		f.Close()
		return nil, err
	}
	conf := s.raftConfig(name)
	conf.NoSnapshotRestoreOnStart = true
	inst := &instrumentedFSM{FSM: f, m: s.m}
	logs, err := raft.NewLogCache(1024, store)
	if err != nil {
		trans.Close()
		f.Close()
		return nil, err
	}
	r, err := raft.NewRaft(conf, inst, logs, store, snaps, trans)
	if err != nil {
		trans.Close()
		f.Close()
		return nil, fmt.Errorf("shard %d: start raft: %w", id, err)
	}
	g := &shard{id: id, s: s, raft: r, fsm: f, trans: trans, inst: inst, wslots: make(chan struct{}, maxWriteRounds)}
	if bootstrap {
		err := r.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter, ID: raft.ServerID(s.name), Address: raft.ServerAddress(s.self.Raft),
		}}}).Error()
		if err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			_ = g.close()
			return nil, fmt.Errorf("shard %d: bootstrap: %w", id, err)
		}
	}
	return g, nil
}

func catchUpFromSnapshot(f *fsm.FSM, snaps raft.SnapshotStore) error {
	list, err := snaps.List()
	if err != nil || len(list) == 0 {
		return err
	}
	if list[0].Index <= f.Applied() {
		return nil
	}
	_, rc, err := snaps.Open(list[0].ID)
	if err != nil {
		return fmt.Errorf("open snapshot %s: %w", list[0].ID, err)
	}
	return f.Restore(rc)
}

func (g *shard) close() error {
	err := g.raft.Shutdown().Error()
	g.trans.Close()
	g.fsm.Close()
	return err
}

func (g *shard) isLeader() bool { return g.raft.State() == raft.Leader }

func (g *shard) voters() int {
	f := g.raft.GetConfiguration()
	if f.Error() != nil {
		return 0
	}
	n := 0
	for _, srv := range f.Configuration().Servers {
		if srv.Suffrage == raft.Voter {
			n++
		}
	}
	return n
}

// maxWriteRounds is how many write rounds (Raft entries) of one shard may
// be in flight at once. Commands proposed meanwhile wait and go out
// together in the next entry, so a busy shard pays one Raft round (log
// append, replication, fsync on each replica) for many writes while an
// idle one proposes at once.
const maxWriteRounds = 1

// proposal is one command waiting for its write round.
type proposal struct {
	cmd  fsm.Command
	res  fsm.Result
	err  error
	done chan struct{} // receives once the result is set
}

var proposalPool = sync.Pool{New: func() any { return &proposal{done: make(chan struct{}, 1)} }}

// propose replicates cmd and returns its result once applied here. The
// command's key and value must stay untouched until it returns.
// errNotLeader means it was certainly not executed.
func (g *shard) propose(cmd fsm.Command) (fsm.Result, error) {
	cmd.Stamp = fsm.StampNow()
	p := proposalPool.Get().(*proposal)
	p.cmd = cmd
	g.wmu.Lock()
	g.wpending = append(g.wpending, p)
	start := !g.wrunning
	g.wrunning = true
	g.wmu.Unlock()
	if start {
		go g.runWrites()
	}
	<-p.done
	res, err := p.res, p.err
	*p = proposal{done: p.done}
	proposalPool.Put(p)
	return res, err
}

// runWrites proposes the pending commands, as many per entry as have
// gathered while the previous round was in flight, until none are left.
func (g *shard) runWrites() {
	for {
		g.wslots <- struct{}{}
		g.wmu.Lock()
		if len(g.wpending) == 0 {
			g.wrunning = false
			g.wmu.Unlock()
			<-g.wslots
			return
		}
		n, size := 0, 0
		for n < len(g.wpending) && n < fsm.MaxBatchCount && (n == 0 || size < fsm.MaxBatchLen) {
			size += len(g.wpending[n].cmd.Key) + len(g.wpending[n].cmd.Value) + 32
			n++
		}
		batch := g.wpending[:n:n]
		if n == len(g.wpending) {
			g.wpending = nil
		} else {
			g.wpending = append([]*proposal(nil), g.wpending[n:]...)
		}
		g.wmu.Unlock()
		g.writeRound(batch)
	}
}

// writeRound proposes batch as one entry; a goroutine waits for it,
// answers every proposal and frees the round's slot.
func (g *shard) writeRound(batch []*proposal) {
	var data []byte
	if len(batch) == 1 {
		c := &batch[0].cmd
		data = c.Append(make([]byte, 0, 32+len(c.Key)+len(c.Value)))
	} else {
		var b fsm.Batch
		for _, p := range batch {
			b.Add(&p.cmd)
		}
		data = b.Bytes()
	}
	f := g.raft.Apply(data, g.s.cfg.RequestTimeout)
	g.s.m.proposals.Add(float64(len(batch)))
	g.s.m.writeRounds.Inc()
	go func() {
		err := f.Error()
		var results []fsm.Result
		var single *fsm.Result
		if err != nil {
			switch {
			case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrEnqueueTimeout):
				err = errNotLeader
			default:
				err = errUnknown
			}
		} else {
			switch r := f.Response().(type) {
			case []fsm.Result:
				results = r
			case *fsm.Result:
				single = r
			}
			if (len(batch) > 1 && len(results) != len(batch)) || (len(batch) == 1 && single == nil) {
				err = errUnknown
				if single != nil && single.Err != nil {
					err = single.Err
				}
			}
		}
		for i, p := range batch {
			switch {
			case err != nil:
				p.err = err
			case single != nil:
				p.res = *single
			default:
				p.res = results[i]
			}
			if p.err == nil && p.res.Err != nil {
				p.err = p.res.Err
			}
			p.done <- struct{}{}
		}
		<-g.wslots
	}()
}

// readRound is one leadership confirmation shared by every linearizable
// read that arrived before it started.
type readRound struct {
	done  chan struct{}
	index uint64
	err   error
}

// linearizable returns once a read served from the local state machine
// reflects every write acknowledged before it was called: the commit index
// is noted, leadership confirmed with a quorum round (raft.VerifyLeader),
// and the state machine has applied up to the noted index. Concurrent
// callers share one confirmation.
func (g *shard) linearizable(ctx context.Context) error {
	g.rmu.Lock()
	r := g.round
	if r == nil {
		r = &readRound{done: make(chan struct{})}
		g.round = r
		if !g.running {
			g.running = true
			go g.runRounds()
		}
	}
	g.rmu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if r.err != nil {
		return r.err
	}
	return g.fsm.WaitApplied(ctx, r.index)
}

func (g *shard) runRounds() {
	for {
		g.rmu.Lock()
		r := g.round
		g.round = nil
		if r == nil {
			g.running = false
			g.rmu.Unlock()
			return
		}
		g.rmu.Unlock()
		r.index, r.err = g.confirm()
		g.s.m.readRounds.Inc()
		close(r.done)
	}
}

// confirm is one ReadIndex round. A leader's commit index covers every
// entry committed before it was elected only once an entry of its own term
// has committed, so the first round of a term first commits a Tick of its
// own. (Not raft.Barrier: raft hands barriers and its own no-op entries to
// nobody, so the state machine's applied index would never reach them;
// after the Tick, every entry of the term is a command or configuration
// change, which the state machine does see.)
func (g *shard) confirm() (uint64, error) {
	if g.raft.State() != raft.Leader {
		return 0, errNotLeader
	}
	term := g.raft.CurrentTerm()
	if g.readyTerm.Load() != term {
		if _, err := g.propose(fsm.Command{Op: fsm.OpTick}); err != nil {
			return 0, errNotLeader
		}
		if g.raft.CurrentTerm() != term {
			return 0, errNotLeader
		}
		g.readyTerm.Store(term)
	}
	index := g.raft.CommitIndex()
	if err := g.raft.VerifyLeader().Error(); err != nil {
		return 0, errNotLeader
	}
	return index, nil
}

// leaderName is the name of the group's leader as this replica knows it.
func (g *shard) leaderName() string {
	_, id := g.raft.LeaderWithID()
	return string(id)
}
