package cached_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anvilstack/anvil/cached"
	"github.com/anvilstack/anvil/pkg/daemon"
	"github.com/anvilstack/anvil/pkg/daemontest"
)

// runCached starts cached on dataDir and returns its address and a stop
// function (a clean shutdown).
func runCached(t *testing.T, dataDir, save string) (string, func()) {
	t.Helper()
	spec := cached.Spec()
	cfg := testConfig(t, spec)
	cfg.DataDir = dataDir
	cfg.Save = save
	d, err := spec.Build(cfg, daemontest.Logger(t), new(slog.LevelVar), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(stop)
	return d.Endpoint("resp"), stop
}

var _ daemon.Service // the harness drives the daemon directly

func TestSnapshotOnShutdownAndLoad(t *testing.T) {
	dir := t.TempDir()
	addr, stop := runCached(t, dir, "3600 1")
	c := dialRaw(t, addr)
	c.do("SET", "plain", "v1")
	c.do("SET", "ttl", "v2", "EX", "1000")
	c.do("SET", "gone", "v3", "PX", "50")
	c.do("SELECT", "3")
	c.do("SET", "in3", "x")
	if r := c.do("INFO", "persistence"); !strings.Contains(r, "rdb_changes_since_last_save:4") {
		t.Fatalf("INFO persistence: %q", r)
	}
	time.Sleep(60 * time.Millisecond) // let "gone" expire
	stop()
	if _, err := os.Stat(filepath.Join(dir, "dump.cached")); err != nil {
		t.Fatalf("no snapshot after a clean shutdown: %v", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*"))
	if len(leftovers) > 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}

	addr2, _ := runCached(t, dir, "")
	c2 := dialRaw(t, addr2)
	eq(t, "plain after restart", c2.do("GET", "plain"), "$2\r\nv1\r\n")
	eq(t, "ttl after restart", c2.do("GET", "ttl"), "$2\r\nv2\r\n")
	r := c2.do("TTL", "ttl")
	if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r, ":"), "\r\n")); err != nil || n < 990 || n > 1000 {
		t.Fatalf("TTL after restart %q", r)
	}
	eq(t, "expired key not loaded", c2.do("EXISTS", "gone"), ":0\r\n")
	c2.do("SELECT", "3")
	eq(t, "db 3 after restart", c2.do("GET", "in3"), "$1\r\nx\r\n")
}

func TestSaveCommands(t *testing.T) {
	dir := t.TempDir()
	addr, _ := runCached(t, dir, "")
	c := dialRaw(t, addr)
	c.do("SET", "k", "v")
	before := c.do("LASTSAVE")
	eq(t, "SAVE", c.do("SAVE"), "+OK\r\n")
	if _, err := os.Stat(filepath.Join(dir, "dump.cached")); err != nil {
		t.Fatal(err)
	}
	if r := c.do("INFO", "persistence"); !strings.Contains(r, "rdb_changes_since_last_save:0") {
		t.Fatalf("changes after SAVE: %q", r)
	}
	eq(t, "BGSAVE", c.do("BGSAVE"), "+Background saving started\r\n")
	deadline := time.Now().Add(5 * time.Second)
	for strings.Contains(c.do("INFO", "persistence"), "rdb_bgsave_in_progress:1") {
		if time.Now().After(deadline) {
			t.Fatal("BGSAVE never finished")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if after := c.do("LASTSAVE"); after < before {
		t.Fatalf("LASTSAVE went back: %s -> %s", before, after)
	}
	eq(t, "SAVE inside MULTI", func() string { c.do("MULTI"); return c.do("SAVE") }(), "-ERR Command not allowed inside a transaction\r\n")
	c.do("DISCARD")
	eq(t, "CONFIG SET save", c.do("CONFIG", "SET", "save", "100 10 60 1000"), "+OK\r\n")
	eq(t, "CONFIG GET save", c.do("CONFIG", "GET", "save"), "*2\r\n$4\r\nsave\r\n$14\r\n100 10 60 1000\r\n")
	eq(t, "CONFIG SET bad save", c.do("CONFIG", "SET", "save", "100"), "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n")
}

// A damaged snapshot stops the start instead of silently starting empty.
func TestDamagedSnapshotRefused(t *testing.T) {
	dir := t.TempDir()
	addr, stop := runCached(t, dir, "")
	dialRaw(t, addr).do("SET", "k", "v")
	dialRaw(t, addr).do("SAVE")
	stop()
	path := filepath.Join(dir, "dump.cached")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	spec := cached.Spec()
	cfg := testConfig(t, spec)
	cfg.DataDir = dir
	d, err := spec.Build(cfg, daemontest.Logger(t), new(slog.LevelVar), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = d.Start(context.Background())
	if err == nil {
		_ = d.Shutdown(context.Background())
		t.Fatal("started on a damaged snapshot")
	}
	if !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("error %v does not say the snapshot is damaged", err)
	}
}
