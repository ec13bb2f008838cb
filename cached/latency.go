package cached

import (
	"sync"
	"sync/atomic"
)

// latencyMonitor records latency spikes above latency-monitor-threshold
// per event, as LATENCY LATEST/HISTORY/RESET report them.
type latencyMonitor struct {
	threshold atomic.Int64 // ms; 0 off
	mu        sync.Mutex
	events    map[string]*latencyEvent
}

type latencyEvent struct {
	samples []latencySample // at most 160, oldest first
	max     int64
}

type latencySample struct{ at, ms int64 }

func newLatencyMonitor() *latencyMonitor {
	return &latencyMonitor{events: map[string]*latencyEvent{}}
}

// add records a sample of event that took ms milliseconds at Unix second
// at, when monitoring is on and ms reaches the threshold.
func (m *latencyMonitor) add(event string, at, ms int64) {
	th := m.threshold.Load()
	if th == 0 || ms < th {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.events[event]
	if e == nil {
		e = &latencyEvent{}
		m.events[event] = e
	}
	if n := len(e.samples); n > 0 && e.samples[n-1].at == at {
		e.samples[n-1].ms = max(e.samples[n-1].ms, ms)
	} else {
		e.samples = append(e.samples, latencySample{at, ms})
		if len(e.samples) > 160 {
			e.samples = e.samples[1:]
		}
	}
	e.max = max(e.max, ms)
}

func (m *latencyMonitor) reset(events []string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(events) == 0 {
		n := len(m.events)
		m.events = map[string]*latencyEvent{}
		return n
	}
	n := 0
	for _, ev := range events {
		if _, ok := m.events[ev]; ok {
			delete(m.events, ev)
			n++
		}
	}
	return n
}
