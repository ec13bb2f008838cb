package cached

import (
	"slices"
	"testing"
	"time"
)

// TestDumpEvents checks RESTORE's keyspace events and key modifications.
func TestDumpEvents(t *testing.T) {
	l, c := startWithEventLog(t)
	payload := "\x00\x05hello\n\x00cr\xdfve4 \n" // DUMP of "hello" by Redis 7.0
	for _, step := range []struct {
		cmd      []string
		events   []string
		modified []string
	}{
		{[]string{"RESTORE", "k", "0", payload}, []string{"restore k"}, []string{"k"}},
		{[]string{"DUMP", "k"}, nil, nil},
		{[]string{"RESTORE", "k", "0", payload}, nil, nil},
		{[]string{"RESTORE", "k", "0", payload, "REPLACE"}, []string{"restore k"}, []string{"k"}},
		{[]string{"RESTORE", "k", "1", payload, "REPLACE", "ABSTTL"}, []string{"del k"}, []string{"k"}},
		{[]string{"RESTORE", "k", "1", payload, "ABSTTL"}, nil, nil},
		{[]string{"RESTORE", "k", "0", "bad"}, nil, nil},
	} {
		c.send(step.cmd...)
		if _, err := c.read(5 * time.Second); err != nil {
			t.Fatalf("%v: %v", step.cmd, err)
		}
		events, modified := l.take()
		if !slices.Equal(events, step.events) {
			t.Errorf("%v: events %q, want %q", step.cmd[:2], events, step.events)
		}
		if !slices.Equal(slices.Compact(modified), step.modified) {
			t.Errorf("%v: modified %q, want %q", step.cmd[:2], modified, step.modified)
		}
	}
}
