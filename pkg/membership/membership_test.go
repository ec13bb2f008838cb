package membership

import (
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/logging"
)

func start(t *testing.T, name, meta string) *Members {
	t.Helper()
	m, err := Start(Config{Name: name, Bind: "127.0.0.1:0", Meta: []byte(meta), Log: logging.Discard(), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func find(ms []Member, name string) (Member, bool) {
	for _, m := range ms {
		if m.Name == name {
			return m, true
		}
	}
	return Member{}, false
}

// Members discover each other with their metadata, see updates, and see a
// member that stops answering as dead.
func TestJoinMetaFailure(t *testing.T) {
	a := start(t, "a", "meta-a")
	b := start(t, "b", "meta-b")
	if n, err := b.Join([]string{a.Addr()}); err != nil || n != 1 {
		t.Fatalf("join: %d %v", n, err)
	}
	waitFor(t, "a to see b", func() bool {
		m, ok := find(a.Members(), "b")
		return ok && m.State == Alive && string(m.Meta) == "meta-b"
	})
	select {
	case <-a.Changed():
	default:
		t.Fatal("no change signalled on join")
	}
	if err := b.SetMeta([]byte("meta-b2")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to see b's new metadata", func() bool {
		m, _ := find(a.Members(), "b")
		return string(m.Meta) == "meta-b2"
	})
	b.Shutdown()
	waitFor(t, "a to see b fail", func() bool {
		_, ok := find(a.Members(), "b")
		return !ok
	})
}
