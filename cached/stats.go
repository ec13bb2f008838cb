package cached

import (
	"math/bits"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// serverStats are the counters INFO stats reports.
type serverStats struct {
	connections   atomic.Int64 // total_connections_received
	rejectedConns atomic.Int64 // rejected_connections
	netInput      atomic.Int64 // total_net_input_bytes
	netOutput     atomic.Int64 // total_net_output_bytes

	errMu  sync.Mutex
	errors map[string]int64 // errorstats, by the error's first word
}

// countError counts an error reply by its code (the first word), for
// INFO errorstats; codes are bounded by what the server can say.
func (st *serverStats) countError(msg string) {
	code, _, _ := strings.Cut(msg, " ")
	st.errMu.Lock()
	if st.errors == nil {
		st.errors = map[string]int64{}
	}
	if _, ok := st.errors[code]; ok || len(st.errors) < 128 {
		st.errors[code]++
	}
	st.errMu.Unlock()
}

func (st *serverStats) reset() {
	st.connections.Store(0)
	st.rejectedConns.Store(0)
	st.netInput.Store(0)
	st.netOutput.Store(0)
	st.errMu.Lock()
	st.errors = nil
	st.errMu.Unlock()
}

// cmdStats are one command's INFO commandstats counters.
type cmdStats struct {
	calls    atomic.Int64
	usec     atomic.Int64
	rejected atomic.Int64
	failed   atomic.Int64
	// unchanged counts successful runs of a write command that changed
	// nothing (Client.Unchanged): they are not changes for the dirty count.
	unchanged atomic.Int64
	// hist counts run times in power-of-two buckets from 1024 ns up
	// (LATENCY HISTOGRAM): bucket i holds durations up to 1024<<i ns.
	hist [histBuckets]atomic.Int64
}

const histBuckets = 40

func (s *cmdStats) reset() {
	s.calls.Store(0)
	s.usec.Store(0)
	s.rejected.Store(0)
	s.failed.Store(0)
	s.unchanged.Store(0)
	for i := range s.hist {
		s.hist[i].Store(0)
	}
}

// record adds one run of d.
func (s *cmdStats) record(d time.Duration) {
	s.calls.Add(1)
	s.usec.Add(d.Microseconds())
	i := 0
	if ns := d.Nanoseconds(); ns > 1024 {
		i = min(bits.Len64(uint64(ns-1)>>10), histBuckets-1)
	}
	s.hist[i].Add(1)
}

// eachCommand calls fn for every command and subcommand.
func (t *Table) eachCommand(fn func(cmd *Command)) {
	for _, cmd := range t.list {
		fn(cmd)
		for _, sub := range cmd.Subcommands {
			fn(sub)
		}
	}
}
