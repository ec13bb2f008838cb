package pebblestore

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// Group commit for durable batches from many writers (kvd's Raft groups):
// CommitGrouped commits a batch without syncing, then waits for a WAL sync
// that covers it. One goroutine per database runs the syncs. Woken by a
// writer, it first yields the processor, so that every goroutine that is
// runnable at that moment (other groups about to append) runs first and
// joins the same sync; then it syncs once for all of them. On an idle
// machine the yield returns at once and nothing waits; on a busy one the
// writers that arrive while others run share one fsync instead of each
// paying for its own. Nothing is acknowledged before its sync.

// syncGroup is the set of writers one WAL sync answers.
type syncGroup struct {
	done chan struct{}
	n    int   // writers that joined (guarded by groupSync.mu until detached)
	err  error // set before done is closed
}

type groupSync struct {
	mu     sync.Mutex // guards next, closed
	next   *syncGroup // the group the next sync will answer
	closed bool

	wake    chan struct{} // capacity 1
	stop    chan struct{}
	stopped chan struct{}

	syncs, joined atomic.Uint64 // grouped syncs done, writers they answered
}

// maxYields bounds how often the sync goroutine yields while the group it
// is about to sync keeps growing.
const maxYields = 3

func (d *DB) startGroupSync() {
	d.gs = &groupSync{wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go d.syncLoop()
}

// CommitGrouped commits the batch and returns once it is on stable storage,
// sharing the WAL sync with concurrent CommitGrouped callers. The batch is
// reset for reuse.
func (b *Batch) CommitGrouped() error {
	if err := b.b.Commit(pebble.NoSync); err != nil {
		b.b.Reset()
		return err
	}
	b.b.Reset()
	return b.d.syncGrouped()
}

// syncGrouped waits for a WAL sync that starts after the call.
func (d *DB) syncGrouped() error {
	gs := d.gs
	gs.mu.Lock()
	if gs.closed {
		gs.mu.Unlock()
		return d.Sync() // closing: sync directly (fails if the database is closed)
	}
	g := gs.next
	if g == nil {
		g = &syncGroup{done: make(chan struct{})}
		gs.next = g
	}
	g.n++
	gs.mu.Unlock()
	select {
	case gs.wake <- struct{}{}:
	default:
	}
	<-g.done
	return g.err
}

func (d *DB) syncLoop() {
	gs := d.gs
	defer close(gs.stopped)
	for {
		select {
		case <-gs.wake:
		case <-gs.stop:
			gs.mu.Lock()
			g := gs.next
			gs.next, gs.closed = nil, true
			gs.mu.Unlock()
			if g != nil {
				g.err = d.Sync()
				close(g.done)
			}
			return
		}
		// Let the goroutines runnable now run (and join) before syncing,
		// again while the group keeps growing.
		n := -1
		for range maxYields {
			gs.mu.Lock()
			cur := 0
			if gs.next != nil {
				cur = gs.next.n
			}
			gs.mu.Unlock()
			if cur == n {
				break
			}
			n = cur
			runtime.Gosched()
		}
		gs.mu.Lock()
		g := gs.next
		gs.next = nil
		gs.mu.Unlock()
		if g == nil {
			continue
		}
		g.err = d.Sync()
		gs.syncs.Add(1)
		gs.joined.Add(uint64(g.n))
		close(g.done)
	}
}

// stopGroupSync answers the waiting writers and stops the sync goroutine
// (before the database closes).
func (d *DB) stopGroupSync() {
	close(d.gs.stop)
	<-d.gs.stopped
}
