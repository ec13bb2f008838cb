//go:build !race

package store

import "testing"

// Updated (a value type's in-place change) and an eviction allocate
// nothing: the observer gets a view of the key.
func TestAllocsUpdatedAndEvict(t *testing.T) {
	ks := New(Config{Databases: 1, Shards: 4}, nopObserver{})
	db := ks.DB(0)
	key, val := []byte("key:1"), []byte("value")
	sh := db.ShardOf(key)
	sh.Lock()
	e := db.Set(key, val, 1000, SetOptions{})
	if n := testing.AllocsPerRun(100, func() { db.Updated(e) }); n != 0 {
		t.Errorf("Updated: %v allocs", n)
	}
	sh.Unlock()
	ks.SetMaxMemory(1)
	ks.SetPolicy(AllKeysLRU)
	keys := make([][]byte, 200)
	for i := range keys {
		keys[i] = []byte{'k', byte(i)}
	}
	i := 0
	n := testing.AllocsPerRun(100, func() {
		k := keys[i%len(keys)]
		i++
		sh := db.ShardOf(k)
		sh.Lock()
		db.Set(k, val, 1000, SetOptions{})
		sh.Unlock()
		ks.Evict(1000)
	})
	// The Set of a new key allocates its entry, and its key+value block
	// when eviction left none of its size (the index grows rarely); the
	// eviction itself must add nothing.
	if n > 3 {
		t.Errorf("Set + Evict: %v allocs", n)
	}
}
