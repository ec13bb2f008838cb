package store

import (
	"fmt"
	"sync"
	"testing"
)

type newEvents struct {
	mu   sync.Mutex
	keys []string
}

func (o *newEvents) KeyModified(int, []byte) {}

func (o *newEvents) KeyEvent(c Class, ev string, db int, key []byte) {
	if c == ClassNew {
		o.mu.Lock()
		o.keys = append(o.keys, fmt.Sprintf("%s %d:%s", ev, db, key))
		o.mu.Unlock()
	}
}

// TestNewKeyEvent checks Redis's "new" event: once for every key that
// comes into being (a write, a new object, a rename's destination, an
// insert), never for an overwrite.
func TestNewKeyEvent(t *testing.T) {
	obs := &newEvents{}
	ks := New(Config{Databases: 2, Shards: 4}, obs)
	db, db1 := ks.DB(0), ks.DB(1)
	var ls LockSet
	ls.AddAll(ks)
	ls.Lock()
	defer ls.Unlock()
	db.Set([]byte("a"), []byte("1"), 1000, SetOptions{})
	db.Set([]byte("a"), []byte("2"), 1000, SetOptions{}) // overwrite: no event
	db.SetObject([]byte("b"), nil, 1000, false)
	db.Rename([]byte("a"), db1, []byte("c"), 1000)
	db.Insert([]byte("d"), []byte("x"), nil, 0, 1000)
	want := []string{"new 0:a", "new 0:b", "new 1:c", "new 0:d"}
	if fmt.Sprint(obs.keys) != fmt.Sprint(want) {
		t.Fatalf("new events %v, want %v", obs.keys, want)
	}
}
