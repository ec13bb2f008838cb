package pebblestore

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

func TestBatchGetIterSnapshot(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := db.NewBatch()
	for i := 0; i < 10; i++ {
		b.Set([]byte(fmt.Sprintf("k%02d", i)), []byte(fmt.Sprint(i)))
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	snap := db.Snapshot()
	defer snap.Close()
	b.Delete([]byte("k03"))
	b.DeleteRange([]byte("k05"), []byte("k08"))
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if v, err := db.Get([]byte("k02"), nil); err != nil || string(v) != "2" {
		t.Fatalf("Get k02 = %q %v", v, err)
	}
	if _, err := db.Get([]byte("k03"), nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted key: %v", err)
	}
	keys := func(it *Iter, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		s := ""
		for ok := it.First(); ok; ok = it.Next() {
			s += string(it.Key()) + "=" + string(it.Value()) + " "
		}
		return s
	}
	if got := keys(db.Iter(Range{Lower: []byte("k02"), Upper: []byte("k09")})); got != "k02=2 k04=4 k08=8 " {
		t.Fatalf("iter: %q", got)
	}
	if got := keys(snap.Iter(Range{Lower: []byte("k02"), Upper: []byte("k05")})); got != "k02=2 k03=3 k04=4 " {
		t.Fatalf("snapshot iter: %q", got)
	}
	if v, err := snap.Get([]byte("k06"), nil); err != nil || string(v) != "6" {
		t.Fatalf("snapshot Get = %q %v", v, err)
	}
}

// What was committed with sync survives a simulated power loss; what was
// committed without it may not, until Sync.
func TestCrashDurability(t *testing.T) {
	fs := NewCrashableFS()
	db, err := Open("db", Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	b := db.NewBatch()
	b.Set([]byte("synced"), []byte("1"))
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	b.Set([]byte("later"), []byte("2"))
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	crashed := fs.CrashClone()
	if err := db.Sync(); err != nil {
		t.Fatal(err)
	}
	crashed2 := fs.CrashClone()
	db.Close()

	for i, c := range []*FS{crashed, crashed2} {
		db, err := Open("db", Options{FS: c})
		if err != nil {
			t.Fatal(err)
		}
		if v, err := db.Get([]byte("synced"), nil); err != nil || string(v) != "1" {
			t.Fatalf("crash %d: synced write lost: %q %v", i, v, err)
		}
		_, err = db.Get([]byte("later"), nil)
		if i == 1 && err != nil {
			t.Fatalf("write before Sync lost after the crash: %v", err)
		}
		db.Close()
	}
}
