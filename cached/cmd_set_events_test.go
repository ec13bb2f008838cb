package cached

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/daemon"
	"github.com/anvilstack/anvil/pkg/daemontest"
)

// eventLog records keyspace events (through Hooks.Publish, which the
// pub/sub family provides in production) and key modifications (through
// Hooks.KeyModified, which client tracking uses).
type eventLog struct {
	mu       sync.Mutex
	events   []string // "event key"
	modified []string // keys
}

func (l *eventLog) take() (events, modified []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	events, modified = l.events, l.modified
	l.events, l.modified = nil, nil
	return events, modified
}

func startWithEventLog(t *testing.T) (*eventLog, *tconn) {
	t.Helper()
	cfg := testConfig(t, Spec())
	cfg.NotifyKeyspaceEvents = "KEA"
	s, err := New(cfg, daemon.Env{Name: "cached", Log: daemontest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	l := &eventLog{}
	s.hooks.Publish = func(channel, message []byte) int {
		if ev, ok := strings.CutPrefix(string(channel), "__keyevent@0__:"); ok {
			l.mu.Lock()
			l.events = append(l.events, ev+" "+string(message))
			l.mu.Unlock()
		}
		return 0
	}
	s.hooks.KeyModified = append(s.hooks.KeyModified, func(db int, key []byte) {
		l.mu.Lock()
		l.modified = append(l.modified, string(key))
		l.mu.Unlock()
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return l, dial(t, s.Addr())
}

// TestHashSetEvents checks the keyspace events (Redis's names, in Redis's
// order) and the key modifications that WATCH and tracking see, command by
// command.
func TestHashSetEvents(t *testing.T) {
	l, c := startWithEventLog(t)
	for _, step := range []struct {
		cmd      []string
		events   []string
		modified []string
	}{
		{[]string{"HSET", "h", "a", "1", "b", "2"}, []string{"hset h"}, []string{"h"}},
		{[]string{"HMSET", "h", "c", "3"}, []string{"hset h"}, []string{"h"}},
		{[]string{"HSETNX", "h", "a", "x"}, nil, nil},
		{[]string{"HSETNX", "h", "d", "4"}, []string{"hset h"}, []string{"h"}},
		{[]string{"HINCRBY", "h", "a", "1"}, []string{"hincrby h"}, []string{"h"}},
		{[]string{"HINCRBY", "h", "a", "x"}, nil, nil},
		{[]string{"HINCRBYFLOAT", "h", "a", "1.5"}, []string{"hincrbyfloat h"}, []string{"h"}},
		{[]string{"HGET", "h", "a"}, nil, nil},
		{[]string{"HGETALL", "h"}, nil, nil},
		{[]string{"HDEL", "h", "nofield"}, nil, nil},
		{[]string{"HDEL", "h", "a", "b"}, []string{"hdel h"}, []string{"h"}},
		{[]string{"HDEL", "h", "c", "d"}, []string{"hdel h", "del h"}, []string{"h"}},
		{[]string{"HDEL", "h", "c"}, nil, nil},
		{[]string{"SADD", "s", "1", "2"}, []string{"sadd s"}, []string{"s"}},
		{[]string{"SADD", "s", "1"}, nil, nil},
		{[]string{"SREM", "s", "3"}, nil, nil},
		{[]string{"SREM", "s", "1"}, []string{"srem s"}, []string{"s"}},
		{[]string{"SREM", "s", "2", "3"}, []string{"srem s", "del s"}, []string{"s"}},
		{[]string{"SADD", "s", "a", "b", "c"}, []string{"sadd s"}, []string{"s"}},
		{[]string{"SPOP", "s"}, []string{"spop s"}, []string{"s"}},
		{[]string{"SPOP", "s", "0"}, nil, nil},
		{[]string{"SPOP", "s", "10"}, []string{"spop s", "del s"}, []string{"s"}},
		{[]string{"SADD", "s1", "a", "b"}, []string{"sadd s1"}, []string{"s1"}},
		{[]string{"SADD", "s2", "b"}, []string{"sadd s2"}, []string{"s2"}},
		{[]string{"SMOVE", "s1", "s2", "a"}, []string{"srem s1", "sadd s2"}, []string{"s1", "s2"}},
		// b is in s2 already: s2 does not change.
		{[]string{"SMOVE", "s1", "s2", "b"}, []string{"srem s1", "del s1"}, []string{"s1"}},
		{[]string{"SMOVE", "s2", "s3", "nope"}, nil, nil},
		{[]string{"SMOVE", "s2", "s3", "a"}, []string{"srem s2", "sadd s3"}, []string{"s2", "s3"}},
		{[]string{"SINTERSTORE", "d", "s2", "s2"}, []string{"sinterstore d"}, []string{"d"}},
		{[]string{"SUNIONSTORE", "d", "s2", "s3"}, []string{"sunionstore d"}, []string{"d"}},
		{[]string{"SDIFFSTORE", "d", "s2", "s3"}, []string{"sdiffstore d"}, []string{"d"}},
		{[]string{"SDIFFSTORE", "d", "s2", "s2"}, []string{"del d"}, []string{"d"}},
		{[]string{"SINTERSTORE", "d", "s2", "nokey"}, nil, nil},
		{[]string{"SINTER", "s2", "s3"}, nil, nil},
		{[]string{"SRANDMEMBER", "s2", "5"}, nil, nil},
		{[]string{"SSCAN", "s2", "0"}, nil, nil},
	} {
		c.send(step.cmd...)
		if _, err := c.read(5 * time.Second); err != nil {
			t.Fatalf("%v: %v", step.cmd, err)
		}
		events, modified := l.take()
		if !slices.Equal(events, step.events) {
			t.Errorf("%v: events %q, want %q", step.cmd, events, step.events)
		}
		if !slices.Equal(modified, step.modified) {
			t.Errorf("%v: modified %q, want %q", step.cmd, modified, step.modified)
		}
	}
}
