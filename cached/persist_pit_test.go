package cached_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A snapshot is a point-in-time image of the whole keyspace: keys that
// RENAME and MOVE carry between shards and databases while it is written
// are in it exactly once, under the name they had when it began or
// later (never lost, never twice). Each renamer owns a disjoint set of
// unique values, so any image must hold every value exactly once.
func TestSnapshotPointInTime(t *testing.T) {
	const keys, renamers, saves = 20000, 2, 20
	dir := t.TempDir()
	addr, _ := runCached(t, dir, "")
	ctx := context.Background()
	setup := newClient(t, addr, 2)
	pipe := setup.Pipeline()
	for i := range keys {
		pipe.Set(ctx, fmt.Sprintf("k:%d", i), fmt.Sprintf("v:%d", i), 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var moved atomic.Int64 // renames done
	var wg sync.WaitGroup
	errs := make(chan error, renamers)
	for g := range renamers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(t, addr, 2)
			name := map[int]string{} // value index -> current key
			db := map[int]int{}      // value index -> its database
			for i := g; i < keys; i += renamers {
				name[i] = fmt.Sprintf("k:%d", i)
			}
			for gen := 0; ; gen++ {
				for i := g; i < keys; i += renamers {
					select {
					case <-stop:
						return
					default:
					}
					to := fmt.Sprintf("k:%d:%d", i, gen)
					var err error
					if gen%4 == 3 { // MOVE to the next database and back to 0 later
						p := c.Pipeline()
						p.Do(ctx, "SELECT", db[i])
						p.Rename(ctx, name[i], to)
						next := (db[i] + 1) % 3
						p.Move(ctx, to, next)
						_, err = p.Exec(ctx)
						db[i] = next
					} else {
						p := c.Pipeline()
						p.Do(ctx, "SELECT", db[i])
						p.Rename(ctx, name[i], to)
						_, err = p.Exec(ctx)
					}
					if err != nil {
						errs <- fmt.Errorf("renamer %d, value %d: %w", g, i, err)
						return
					}
					name[i] = to
					moved.Add(1)
				}
			}
		}()
	}
	saver := newClient(t, addr, 2)
	path := filepath.Join(dir, "dump.cached")
	for n := range saves {
		// Every save overlaps renames: wait for some before each.
		for start := moved.Load(); moved.Load() < start+200; {
			select {
			case err := <-errs:
				t.Fatal(err)
			default:
			}
			runtime.Gosched()
		}
		// BGSAVE, so that the renames go on while it writes (SAVE blocks
		// the clients of its event loop, as Redis's does).
		if err := saver.BgSave(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		for {
			info, err := saver.Info(ctx, "persistence").Result()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(info, "rdb_bgsave_in_progress:0") {
				break
			}
			time.Sleep(time.Millisecond)
		}
		vals, err := snapshotValues(path)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, v := range vals {
			seen[v]++
		}
		for i := range keys {
			if c := seen[fmt.Sprintf("v:%d", i)]; c != 1 {
				t.Errorf("save %d: value v:%d is in the snapshot %d times (%d records)", n, i, c, len(vals))
			}
		}
		if len(vals) != keys {
			t.Fatalf("save %d: %d records, want %d", n, len(vals), keys)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d renames and moves during %d saves", moved.Load(), saves)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// snapshotValues returns the values of every string record of a snapshot
// file (format in persist.go).
func snapshotValues(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	const magic = "CACHED01\n"
	if len(data) < len(magic)+5 || string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("%s: not a snapshot", path)
	}
	r := data[len(magic) : len(data)-5] // the 'E' and the CRC end it
	var vals []string
	field := func() ([]byte, error) {
		n, k := binary.Uvarint(r)
		if k <= 0 || n > uint64(len(r)-k) {
			return nil, fmt.Errorf("%s: bad length", path)
		}
		f := r[k : k+int(n)]
		r = r[k+int(n):]
		return f, nil
	}
	for len(r) > 0 {
		if r[0] != 'K' {
			return nil, fmt.Errorf("%s: record starts with %q", path, r[0])
		}
		r = r[1:]
		if _, k := binary.Uvarint(r); k > 0 { // database
			r = r[k:]
		}
		if _, k := binary.Varint(r); k > 0 { // expiry
			r = r[k:]
		}
		r = r[1:]                          // kind
		if _, err := field(); err != nil { // key
			return nil, err
		}
		v, err := field()
		if err != nil {
			return nil, err
		}
		vals = append(vals, string(v))
	}
	return vals, nil
}
