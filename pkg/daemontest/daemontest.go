// Package daemontest starts Anvil daemons inside a test process: every
// listener on a free loopback port, data in the test's temporary directory,
// logs in the test's output, readiness awaited through the admin /readyz,
// and shutdown (with its error checked) at the end of the test.
package daemontest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/daemon"
)

// Logger returns a logger that writes to t's output at debug level, so that
// a failing test shows what the daemon said.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Config returns spec's defaults adapted for a test: every listen address
// on port 0 and the data directory under t.TempDir().
func Config[C any, P interface {
	*C
	daemon.Config
}](t testing.TB, spec *daemon.Spec[C, P]) C {
	t.Helper()
	cfg := spec.Defaults()
	p := P(&cfg)
	for _, addr := range p.ListenAddrs() {
		a, err := daemon.WithPort(*addr, 0)
		if err != nil {
			t.Fatalf("daemontest: %s default address %q: %v", spec.Name, *addr, err)
		}
		*addr = a
	}
	p.CommonConfig().DataDir = filepath.Join(t.TempDir(), spec.Name)
	p.CommonConfig().ShutdownTimeout = 10 * time.Second
	return cfg
}

// Start builds a daemon from cfg (usually Config's result, changed by the
// test), starts it, waits until it is ready and stops it when the test ends.
func Start[C any, P interface {
	*C
	daemon.Config
}](t testing.TB, spec *daemon.Spec[C, P], cfg C) *daemon.Daemon {
	t.Helper()
	if err := spec.Validate(&cfg); err != nil {
		t.Fatalf("daemontest: %s config: %v", spec.Name, err)
	}
	var level slog.LevelVar
	d, err := spec.Build(cfg, Logger(t).With("daemon", spec.Name), &level, nil)
	if err != nil {
		t.Fatalf("daemontest: build %s: %v", spec.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Start(ctx); err != nil {
		t.Fatalf("daemontest: start %s: %v", spec.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), d.ShutdownTimeout())
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("daemontest: shutdown %s: %v", spec.Name, err)
		}
	})
	WaitReady(t, d.AdminAddr().String(), "", 30*time.Second)
	return d
}

// WaitReady polls http://adminAddr/readyz until it answers 200, failing the
// test after timeout. token, if set, is sent as a bearer token.
func WaitReady(t testing.TB, adminAddr, token string, timeout time.Duration) {
	t.Helper()
	if err := PollReady(adminAddr, token, timeout); err != nil {
		t.Fatalf("daemontest: %v", err)
	}
}

// PollReady polls http://adminAddr/readyz until it answers 200 or timeout
// passes.
func PollReady(adminAddr, token string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	last := "no answer"
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 200*time.Millisecond) {
		req, _ := http.NewRequest("GET", "http://"+adminAddr+"/readyz?verbose", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %s", adminAddr, timeout, last)
		}
		time.Sleep(delay)
	}
}
