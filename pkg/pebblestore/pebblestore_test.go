package pebblestore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
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

// CommitGrouped returns only once the batch is synced: concurrent writers
// share syncs, and every write they were told is committed survives a
// simulated power loss taken right after.
func TestCommitGroupedDurable(t *testing.T) {
	fs := NewCrashableFS()
	db, err := Open("db", Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			b := db.NewBatch()
			defer b.Close()
			for i := range each {
				b.Set(fmt.Appendf(nil, "w%d/%03d", w, i), []byte("v"))
				if err := b.CommitGrouped(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	crashed := fs.CrashClone()
	st := db.Stats()
	if st.GroupedCommits != writers*each || st.GroupedSyncs == 0 || st.GroupedSyncs > st.GroupedCommits {
		t.Fatalf("grouped syncs %d for %d commits", st.GroupedSyncs, st.GroupedCommits)
	}
	t.Logf("%d commits, %d syncs", st.GroupedCommits, st.GroupedSyncs)
	db.Close()
	db, err = Open("db", Options{FS: crashed})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for w := range writers {
		for i := range each {
			if _, err := db.Get(fmt.Appendf(nil, "w%d/%03d", w, i), nil); err != nil {
				t.Fatalf("w%d/%03d lost in the crash: %v", w, i, err)
			}
		}
	}
}
