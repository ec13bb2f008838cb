package raftstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/anvilstack/anvil/pkg/logging"
	"github.com/anvilstack/anvil/pkg/pebblestore"
)

func openDB(t *testing.T, dir string) *pebblestore.DB {
	t.Helper()
	db, err := pebblestore.Open(dir, pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func logs(from, to uint64) []*raft.Log {
	var out []*raft.Log
	for i := from; i <= to; i++ {
		out = append(out, &raft.Log{Index: i, Term: 1 + i/10, Type: raft.LogCommand, Data: []byte(fmt.Sprint("entry", i)), AppendedAt: time.Unix(0, int64(i))})
	}
	return out
}

func bounds(t *testing.T, s *Store) (uint64, uint64) {
	t.Helper()
	f, _ := s.FirstIndex()
	l, _ := s.LastIndex()
	return f, l
}

// Appends, compaction from the front, truncation of a suffix, reopening,
// and two groups in one database that do not see each other's entries.
func TestLogStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db := openDB(t, dir)
	a, err := Open(db, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Open(db, 2)
	if f, l := bounds(t, a); f != 0 || l != 0 {
		t.Fatalf("empty store bounds %d..%d", f, l)
	}
	if err := a.StoreLogs(logs(1, 100)); err != nil {
		t.Fatal(err)
	}
	if err := b.StoreLog(logs(7, 7)[0]); err != nil {
		t.Fatal(err)
	}
	var got raft.Log
	if err := a.GetLog(42, &got); err != nil || string(got.Data) != "entry42" || got.Term != 5 || got.AppendedAt.UnixNano() != 42 {
		t.Fatalf("GetLog(42) = %+v, %v", got, err)
	}
	if err := b.GetLog(42, &got); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("group 2 sees group 1's entry: %v", err)
	}
	if err := a.DeleteRange(1, 30); err != nil { // compaction
		t.Fatal(err)
	}
	if err := a.DeleteRange(91, 100); err != nil { // conflict truncation
		t.Fatal(err)
	}
	if f, l := bounds(t, a); f != 31 || l != 90 {
		t.Fatalf("bounds after deletes %d..%d, want 31..90", f, l)
	}
	if err := a.GetLog(30, &got); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("compacted entry still readable: %v", err)
	}
	if err := a.SetUint64([]byte("CurrentTerm"), 9); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get([]byte("missing")); err == nil || err.Error() != "not found" {
		t.Fatalf("missing stable key: %v, want raft's \"not found\"", err)
	}
	db.Close()

	db = openDB(t, dir)
	defer db.Close()
	a, _ = Open(db, 1)
	b, _ = Open(db, 2)
	if f, l := bounds(t, a); f != 31 || l != 90 {
		t.Fatalf("bounds after reopen %d..%d, want 31..90", f, l)
	}
	if f, l := bounds(t, b); f != 7 || l != 7 {
		t.Fatalf("group 2 bounds after reopen %d..%d, want 7..7", f, l)
	}
	if v, err := a.GetUint64([]byte("CurrentTerm")); err != nil || v != 9 {
		t.Fatalf("term after reopen %d %v", v, err)
	}
	if err := a.DeleteRange(31, 90); err != nil {
		t.Fatal(err)
	}
	if f, l := bounds(t, a); f != 0 || l != 0 {
		t.Fatalf("bounds after deleting all %d..%d", f, l)
	}
	if err := DeleteGroup(db, 2); err != nil {
		t.Fatal(err)
	}
	b, _ = Open(db, 2)
	if f, l := bounds(t, b); f != 0 || l != 0 {
		t.Fatalf("group 2 after DeleteGroup %d..%d", f, l)
	}
}

func FuzzDecodeLog(f *testing.F) {
	f.Add(EncodeLog(nil, logs(3, 3)[0]))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var l raft.Log
		if DecodeLog(b, &l) != nil {
			return
		}
		again := EncodeLog(nil, &l)
		var l2 raft.Log
		if err := DecodeLog(again, &l2); err != nil || l2.Index != l.Index || !bytes.Equal(l2.Data, l.Data) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

type counterFSM struct{ n atomic.Int64 }

func (f *counterFSM) Apply(*raft.Log) any                 { return f.n.Add(1) }
func (f *counterFSM) Snapshot() (raft.FSMSnapshot, error) { return nil, errors.New("no snapshots") }
func (f *counterFSM) Restore(io.ReadCloser) error         { return nil }

// Three raft nodes, each with two groups on one Mux and one database, elect
// leaders and replicate entries in both groups, with each group's transport
// either a raft.NetworkTransport on its Layer or the mux's own Transport.
func TestRaftOverMux(t *testing.T) {
	for _, kind := range []string{"network", "mux"} {
		t.Run("transport="+kind, func(t *testing.T) { testRaftOverMux(t, kind == "mux") })
	}
}

func testRaftOverMux(t *testing.T, own bool) {
	const nodes, groups = 3, 2
	log := logging.Discard()
	var muxes []*Mux
	for i := 0; i < nodes; i++ {
		m, err := Listen("127.0.0.1:0", nil, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		muxes = append(muxes, m)
	}
	var servers []raft.Server
	for i, m := range muxes {
		servers = append(servers, raft.Server{ID: raft.ServerID(fmt.Sprint("n", i)), Address: raft.ServerAddress(m.Addr().String())})
	}
	rafts := make([][]*raft.Raft, groups)
	fsms := make([][]*counterFSM, groups)
	for i, m := range muxes {
		db := openDB(t, t.TempDir())
		t.Cleanup(func() { db.Close() })
		for g := 0; g < groups; g++ {
			store, err := Open(db, uint32(g))
			if err != nil {
				t.Fatal(err)
			}
			var trans raft.Transport
			if own {
				trans, err = m.NewTransport(TransportConfig{Group: uint32(g), Local: servers[i].Address, Timeout: 2 * time.Second})
			} else {
				var layer *Layer
				if layer, err = m.Layer(uint32(g)); err == nil {
					trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{Stream: layer, MaxPool: 2, Timeout: 2 * time.Second, Logger: Logger(log)})
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			conf := raft.DefaultConfig()
			conf.LocalID = servers[i].ID
			conf.HeartbeatTimeout = 300 * time.Millisecond
			conf.ElectionTimeout = 300 * time.Millisecond
			conf.LeaderLeaseTimeout = 200 * time.Millisecond
			conf.Logger = Logger(log)
			fsm := &counterFSM{}
			r, err := raft.NewRaft(conf, fsm, store, store, raft.NewInmemSnapshotStore(), trans)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Shutdown().Error() })
			if i == 0 {
				if err := r.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
					t.Fatal(err)
				}
			}
			rafts[g] = append(rafts[g], r)
			fsms[g] = append(fsms[g], fsm)
		}
	}
	for g := 0; g < groups; g++ {
		// ten entries through whoever leads (a busy machine may change
		// leaders; a lost leadership is retried)
		for k, deadline := 0, time.Now().Add(20*time.Second); k < 10; {
			if time.Now().After(deadline) {
				t.Fatalf("group %d: could not commit 10 entries", g)
			}
			var leader *raft.Raft
			for _, r := range rafts[g] {
				if r.State() == raft.Leader {
					leader = r
				}
			}
			if leader == nil {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if err := leader.Apply([]byte("x"), 5*time.Second).Error(); err == nil {
				k++
			}
		}
		for deadline := time.Now().Add(10 * time.Second); ; {
			ok := true
			for _, f := range fsms[g] {
				ok = ok && f.n.Load() >= 10
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("group %d: not every replica applied 10 entries", g)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
