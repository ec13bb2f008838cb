package cached

import (
	"slices"
	"testing"
	"time"
)

// TestHLLEvents checks the keyspace events and key modifications of the
// HyperLogLog commands.
func TestHLLEvents(t *testing.T) {
	l, c := startWithEventLog(t)
	for _, step := range []struct {
		cmd      []string
		events   []string
		modified []string
	}{
		{[]string{"PFADD", "h", "a"}, []string{"pfadd h"}, []string{"h"}},
		{[]string{"PFADD", "h", "a"}, nil, nil},
		{[]string{"PFCOUNT", "h"}, nil, []string{"h"}}, // caches the cardinality in the value
		{[]string{"PFCOUNT", "h"}, nil, nil},
		{[]string{"PFCOUNT", "h", "nokey"}, nil, nil},
		{[]string{"PFMERGE", "m", "h"}, []string{"pfadd m"}, []string{"m"}},
		{[]string{"PFMERGE", "m"}, []string{"pfadd m"}, []string{"m"}},
		{[]string{"SET", "s", "x"}, []string{"set s"}, []string{"s"}},
		{[]string{"PFADD", "s", "a"}, nil, nil},
	} {
		c.send(step.cmd...)
		if _, err := c.read(5 * time.Second); err != nil {
			t.Fatalf("%v: %v", step.cmd, err)
		}
		events, modified := l.take()
		if !slices.Equal(events, step.events) {
			t.Errorf("%v: events %q, want %q", step.cmd, events, step.events)
		}
		if !slices.Equal(slices.Compact(modified), step.modified) {
			t.Errorf("%v: modified %q, want %q", step.cmd, modified, step.modified)
		}
	}
}
