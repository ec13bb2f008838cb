package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/anvilstack/anvil/pkg/sdnotify"
)

// Runner runs daemons from start to stop, handling signals and systemd
// notification for all of them at once.
type Runner struct {
	Daemons []*Daemon
	// Signals, when set, replaces the process's own SIGINT, SIGTERM and
	// SIGHUP (for tests).
	Signals <-chan os.Signal
	// OnReady is called once every daemon has started.
	OnReady func()
	Log     *slog.Logger
}

// Run starts the daemons in order and runs them until ctx ends or a stop
// signal (SIGTERM, SIGINT) arrives, then shuts them all down, each within
// its shutdown_timeout; a second stop signal cuts the drain short. SIGHUP
// reloads every daemon. If a daemon fails to start, the ones already started
// are stopped and the error returned. Run returns nil after a clean stop.
func (r *Runner) Run(ctx context.Context) error {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sigs := r.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		defer signal.Stop(ch)
		sigs = ch
	}

	for i, d := range r.Daemons {
		if err := d.Start(ctx); err != nil {
			r.shutdown(context.Background(), log, r.Daemons[:i], nil)
			return err
		}
	}
	notify(log, sdnotify.Ready)
	if r.OnReady != nil {
		r.OnReady()
	}
	failed, stopWatching := watchFailures(r.Daemons)
	defer stopWatching()

	for {
		select {
		case f := <-failed:
			f.d.log.Error("daemon failed; stopping", "err", f.err)
			err := r.shutdown(context.Background(), log, r.Daemons, sigs)
			return errors.Join(fmt.Errorf("%s: %w", f.d.name, f.err), err)
		case <-ctx.Done():
			log.Info("stopping", "reason", context.Cause(ctx))
			return r.shutdown(context.Background(), log, r.Daemons, sigs)
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				r.reload(ctx, log)
				continue
			}
			log.Info("stopping", "signal", sig.String())
			return r.shutdown(context.Background(), log, r.Daemons, sigs)
		}
	}
}

func (r *Runner) reload(ctx context.Context, log *slog.Logger) {
	notify(log, sdnotify.Reloading)
	for _, d := range r.Daemons {
		if err := d.Reload(ctx); err != nil {
			d.log.Error("reload failed; the running config stays in force", "err", err)
		}
	}
	notify(log, sdnotify.Ready)
}

// shutdown stops ds concurrently, each within its own deadline. A stop
// signal arriving on sigs meanwhile cancels the drain.
func (r *Runner) shutdown(ctx context.Context, log *slog.Logger, ds []*Daemon, sigs <-chan os.Signal) error {
	notify(log, sdnotify.Stopping)
	ctx, force := context.WithCancelCause(ctx)
	defer force(nil)
	stopWatch := make(chan struct{})
	defer close(stopWatch)
	if sigs != nil {
		go func() {
			for {
				select {
				case <-stopWatch:
					return
				case sig := <-sigs:
					if sig == syscall.SIGHUP {
						continue
					}
					log.Warn("second stop signal: cutting the drain short", "signal", sig.String())
					force(fmt.Errorf("second signal %v", sig))
					return
				}
			}
		}()
	}
	errs := make([]error, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Go(func() {
			dctx, cancel := context.WithTimeout(ctx, d.ShutdownTimeout())
			defer cancel()
			if err := d.Shutdown(dctx); err != nil {
				errs[i] = err
				return
			}
			d.log.Info("stopped")
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

type failure struct {
	d   *Daemon
	err error
}

// watchFailures merges the Failed channels of the daemons whose service
// implements Failer.
func watchFailures(ds []*Daemon) (<-chan failure, func()) {
	out := make(chan failure, len(ds))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, d := range ds {
		f, ok := d.svc.(Failer)
		if !ok {
			continue
		}
		wg.Go(func() {
			select {
			case err, ok := <-f.Failed():
				if ok && err != nil {
					out <- failure{d, err}
				}
			case <-stop:
			}
		})
	}
	return out, func() { close(stop); wg.Wait() }
}

func notify(log *slog.Logger, f func() error) {
	if err := f(); err != nil {
		log.Warn("systemd notification failed", "err", err)
	}
}
