package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/anvilstack/anvil/pkg/daemon"
	"github.com/anvilstack/anvil/pkg/logging"
)

// up runs every daemon in this process with its defaults, data under
// --data-dir, until Ctrl-C.
func (a *app) up(args []string) int {
	fs := flag.NewFlagSet("anvil up", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	dataDir := fs.String("data-dir", ".anvil", "`directory` for every daemon's data (each in its own subdirectory)")
	offset := fs.Int("port-offset", 0, "add `N` to every default port (to run a second stack)")
	random := fs.Bool("random-ports", false, "listen on free ports instead of the defaults (for tests)")
	only := fs.String("only", "", "comma-separated `daemons` to run (default: all)")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn, error")
	logFormat := fs.String("log-format", "text", "log `format`: text or json")
	readyWait := fs.Duration("ready-timeout", time.Minute, "how long to wait for every daemon's readiness checks before printing the endpoints anyway")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	defs, err := a.selectDefs(*only)
	if err != nil {
		fmt.Fprintf(a.stderr, "anvil up: %v\n", err)
		return 2
	}
	if len(defs) == 0 {
		fmt.Fprintln(a.stderr, "anvil up: no daemons to run")
		return 2
	}
	log, _, err := logging.New(a.stderr, logging.Config{Level: *logLevel, Format: *logFormat})
	if err != nil {
		fmt.Fprintf(a.stderr, "anvil up: %v\n", err)
		return 2
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		fmt.Fprintf(a.stderr, "anvil up: %v\n", err)
		return 2
	}

	var ds []*daemon.Daemon
	for _, def := range defs {
		d, err := def.Local(daemon.LocalOptions{DataDir: abs, PortOffset: *offset, RandomPorts: *random, Log: log})
		if err != nil {
			fmt.Fprintf(a.stderr, "anvil up: %v\n", err)
			return 1
		}
		ds = append(ds, d)
	}
	r := &daemon.Runner{
		Daemons: ds,
		Signals: a.signals,
		Log:     log,
		OnReady: func() {
			waitReady(log, ds, *readyWait)
			printEndpoints(a.stdout, ds, abs)
		},
	}
	if err := r.Run(context.Background()); err != nil {
		msg := err.Error()
		if daemon.IsAddrInUse(err) {
			msg += " (is another anvil or the daemon already running? anvil up --port-offset N moves every port)"
		}
		fmt.Fprintf(a.stderr, "anvil up: %s\n", strings.ReplaceAll(msg, "\n", "; "))
		return 1
	}
	fmt.Fprintln(a.stdout, "anvil: stopped")
	return 0
}

// waitReady waits until every daemon's readiness checks pass (a cluster
// has elected its leaders, data is loaded), so that the endpoints printed
// next answer at once. After timeout it warns and lets the caller go on.
func waitReady(log *slog.Logger, ds []*daemon.Daemon, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Go(func() {
			if err := d.WaitReady(ctx); err != nil {
				log.Warn("daemon not ready yet; its endpoints may not answer", "err", err)
			}
		})
	}
	wg.Wait()
}

func printEndpoints(w io.Writer, ds []*daemon.Daemon, dataDir string) {
	fmt.Fprintf(w, "anvil: %d daemons ready; data in %s; Ctrl-C stops\n\n", len(ds), dataDir)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DAEMON\tENDPOINT\tADDRESS")
	var env []string
	for _, d := range ds {
		for _, e := range d.Endpoints() {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Name(), e.Name, e.Value())
			if e.Env != "" {
				env = append(env, fmt.Sprintf("export %s=%s", e.Env, e.EnvString()))
			}
		}
	}
	tw.Flush()
	if len(env) > 0 {
		fmt.Fprintf(w, "\nFor your app:\n%s\n", strings.Join(env, "\n"))
	}
	fmt.Fprintln(w)
}
