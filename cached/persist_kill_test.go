package cached_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// kill -9 while BGSAVE writes: the restarted server loads the snapshot
// before the save or the one it wrote, whole (never a mix, never a damaged
// file that stops the start), and removes the interrupted save's temporary
// file. Each round writes a generation of every value and SAVEs it, writes
// the next generation, starts a BGSAVE and kills the process at a
// different moment of it (once after it finished).
func TestSnapshotKill9DuringSave(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the cached binary")
	}
	bin := filepath.Join(t.TempDir(), "cached")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/cached").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	const keys = 20000
	val := func(gen, i int) string { return fmt.Sprintf("%d:%d:%s", gen, i, strings.Repeat("x", 500)) }
	ctx := context.Background()
	write := func(c *redis.Client, gen int) {
		for i := 0; i < keys; i += 500 {
			p := c.Pipeline()
			for j := i; j < i+500; j++ {
				p.Set(ctx, fmt.Sprintf("key:%d", j), val(gen, j), 0)
			}
			if _, err := p.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	var interrupted, completed, temps int
	for round := 0; round < 6; round++ {
		cmd, c := startBinary(t, bin, dir)
		if round > 0 {
			// The snapshot the last round left: its SAVE's generation, or
			// its BGSAVE's if that finished before the kill.
			switch gen := generation(t, c, keys); gen {
			case 2*round - 2:
				interrupted++
			case 2*round - 1:
				completed++
			default:
				t.Fatalf("round %d: loaded generation %d, want %d or %d", round, gen, 2*round-2, 2*round-1)
			}
			if stale, _ := filepath.Glob(filepath.Join(dir, "dump.cached.tmp-*")); len(stale) > 0 {
				t.Fatalf("round %d: temporary files left after the start: %v", round, stale)
			}
		}
		write(c, 2*round)
		if err := c.Save(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		write(c, 2*round+1)
		if err := c.BgSave(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if round == 4 { // once, the kill comes after the BGSAVE finished
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				if info := c.Info(ctx, "persistence").Val(); strings.Contains(info, "rdb_bgsave_in_progress:0") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("BGSAVE did not finish")
				}
			}
		} else {
			time.Sleep(time.Duration(round) * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		_ = c.Close()
		if stale, _ := filepath.Glob(filepath.Join(dir, "dump.cached.tmp-*")); len(stale) > 0 {
			temps++
		}
	}
	t.Logf("after kill -9 during BGSAVE: %d restarts loaded the save before it (%d kills left a temporary file), %d the BGSAVE's", interrupted, temps, completed)
	// Both cases must have happened: a kill during a save (which save a
	// kill lands in depends on the machine's speed) and the one after.
	if interrupted == 0 || completed == 0 {
		t.Errorf("want kills during a save and after one; got %d and %d", interrupted, completed)
	}
}

// generation returns the generation of every value, failing the test
// unless all keys are there and all are of one generation.
func generation(t *testing.T, c *redis.Client, keys int) int {
	t.Helper()
	ctx := context.Background()
	if n, err := c.DBSize(ctx).Result(); err != nil || n != int64(keys) {
		t.Fatalf("DBSIZE after restart: %d, %v; want %d", n, err, keys)
	}
	gen := -1
	for i := range keys {
		v, err := c.Get(ctx, fmt.Sprintf("key:%d", i)).Result()
		if err != nil {
			t.Fatalf("key:%d after restart: %v", i, err)
		}
		var g, j int
		if _, err := fmt.Sscanf(v, "%d:%d:", &g, &j); err != nil || j != i {
			t.Fatalf("key:%d holds %.20q", i, v)
		}
		if gen == -1 {
			gen = g
		} else if g != gen {
			t.Fatalf("key:%d is of generation %d, key:0 of %d: the snapshot mixes two saves", i, g, gen)
		}
	}
	return gen
}

// startBinary runs the cached binary on dir and returns it with a client
// once it answers.
func startBinary(t *testing.T, bin, dir string) (*exec.Cmd, *redis.Client) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-listen", addr, "-admin", "127.0.0.1:0", "-data-dir", dir, "-log-level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true, MaxRetries: -1})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err := c.Ping(context.Background()).Err(); err == nil {
			return cmd, c
		} else if time.Now().After(deadline) {
			t.Fatalf("cached did not answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
