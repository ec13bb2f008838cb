package cached

import (
	"context"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/daemon"
	"github.com/anvilstack/anvil/pkg/daemontest"
)

// GOMAXPROCS and GOMEMLIMIT set by the operator are process-wide and win
// over threads and the memory limit cached derives from maxmemory
// (FOLLOWUPS #13).
func TestProcessSettingsRespectEnv(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	t.Setenv("GOMAXPROCS", strconv.Itoa(procs))
	t.Setenv("GOMEMLIMIT", "1GiB")
	limit := debug.SetMemoryLimit(-1)
	cfg := testConfig(t, Spec())
	cfg.MaxMemory = 64 << 20
	cfg.Threads = procs + 1
	s, err := New(cfg, daemon.Env{Name: "cached", Log: daemontest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS = %d, want %d from the environment", got, procs)
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("memory limit = %d, want %d as before", got, limit)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}
