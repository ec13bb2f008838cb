package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/anvilstack/anvil/pkg/admin"
	"github.com/anvilstack/anvil/pkg/buildinfo"
	"github.com/anvilstack/anvil/pkg/config"
	"github.com/anvilstack/anvil/pkg/logging"
)

// Daemon is one daemon built from its Spec: the Service, its admin server
// and registry, and the reload logic. Start, Reload and Shutdown are called
// by a Runner (or a test), one at a time.
type Daemon struct {
	name  string
	log   *slog.Logger
	level *slog.LevelVar
	admin *admin.Server
	reg   *prometheus.Registry
	svc   Service

	// reload loads the config anew and applies it; nil when the daemon
	// was built without a config source (anvil up).
	reload func(ctx context.Context) error

	mu              sync.Mutex
	shutdownTimeout time.Duration

	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge
}

// Build constructs a daemon from a validated config. load, when not nil,
// produces the config anew (file and flags) for Reload.
func (s *Spec[C, P]) Build(cfg C, log *slog.Logger, level *slog.LevelVar, load func() (C, error)) (*Daemon, error) {
	common := P(&cfg).CommonConfig()
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	bi := buildinfo.Read()
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "anvil_" + s.Name + "_build_info",
		Help:        "Build information of the running binary; always 1.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "revision": bi.Commit, "goversion": bi.GoVersion},
	})
	info.Set(1)
	d := &Daemon{
		name:            s.Name,
		log:             log,
		level:           level,
		reg:             reg,
		shutdownTimeout: common.ShutdownTimeout,
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "anvil_" + s.Name + "_config_last_reload_successful",
			Help: "Whether the last configuration reload succeeded (1) or failed (0).",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "anvil_" + s.Name + "_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load.",
		}),
	}
	reg.MustRegister(info, d.reloadOK, d.reloadTime)
	d.reloadOK.Set(1)
	d.reloadTime.SetToCurrentTime()
	d.admin = admin.New(common.Admin, reg, log)

	svc, err := s.New(cfg, Env{Name: s.Name, Log: log, Registry: reg, Admin: d.admin})
	if err != nil {
		return nil, err
	}
	d.svc = svc
	if load != nil {
		cur := cfg
		d.reload = func(ctx context.Context) error {
			next, err := load()
			if err != nil {
				return fmt.Errorf("invalid config: %w", err)
			}
			if err := s.apply(ctx, d, cur, next); err != nil {
				return err
			}
			cur = next
			return nil
		}
	}
	return d, nil
}

// apply moves a running daemon from config cur to next, or changes nothing.
func (s *Spec[C, P]) apply(ctx context.Context, d *Daemon, cur, next C) error {
	changed := config.Diff(cur, next)
	if fixed := config.Only(changed, fixedCommonKeys...); len(fixed) > 0 {
		return fmt.Errorf("cannot change %v without a restart", fixed)
	}
	if own := config.Without(changed, commonKeys...); len(own) > 0 {
		r, ok := d.svc.(Reloader[C])
		if !ok {
			return fmt.Errorf("%s does not reload %v; restart to apply", s.Name, own)
		}
		if err := r.Reload(ctx, next); err != nil {
			return err
		}
	}
	c := P(&next).CommonConfig()
	if lvl, err := logging.ParseLevel(c.Log.Level); err == nil {
		d.level.Set(lvl)
	}
	d.admin.SetToken(c.Admin.Token)
	d.mu.Lock()
	d.shutdownTimeout = c.ShutdownTimeout
	d.mu.Unlock()
	if len(changed) > 0 {
		d.log.Info("config reloaded", "changed", changed)
	} else {
		d.log.Info("config reloaded, nothing changed")
	}
	return nil
}

// Name is the daemon's name.
func (d *Daemon) Name() string { return d.name }

// Service is the daemon's Service, for tests that look inside.
func (d *Daemon) Service() Service { return d.svc }

// Registry is the daemon's metrics registry.
func (d *Daemon) Registry() *prometheus.Registry { return d.reg }

// AdminAddr is the bound admin address, after Start.
func (d *Daemon) AdminAddr() net.Addr { return d.admin.Addr() }

// Endpoints lists what the daemon serves, admin last (after Start).
func (d *Daemon) Endpoints() []Endpoint {
	var eps []Endpoint
	if e, ok := d.svc.(Endpointer); ok {
		eps = e.Endpoints()
	}
	if a := d.admin.Addr(); a != nil {
		eps = append(eps, Endpoint{Name: "admin", Addr: a.String(), URL: "http://" + a.String()})
	}
	return eps
}

// Endpoint returns the named endpoint's address, or "" if there is none.
func (d *Daemon) Endpoint(name string) string {
	for _, e := range d.Endpoints() {
		if e.Name == name {
			return e.Addr
		}
	}
	return ""
}

// Ready reports whether the daemon is ready to serve, as /readyz would:
// started, and every readiness check passing.
func (d *Daemon) Ready(ctx context.Context) error { return d.admin.Ready(ctx) }

// WaitReady polls Ready until it passes or ctx ends, and then returns the
// last reason the daemon was not ready.
func (d *Daemon) WaitReady(ctx context.Context) error {
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 250*time.Millisecond) {
		err := d.Ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w", d.name, err)
		case <-time.After(delay):
		}
	}
}

// ShutdownTimeout is the configured drain deadline.
func (d *Daemon) ShutdownTimeout() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.shutdownTimeout
}

// Start binds the admin listener (so /healthz answers during start-up),
// starts the service, then opens readiness. On error nothing is left running.
func (d *Daemon) Start(ctx context.Context) error {
	if err := d.admin.Start(); err != nil {
		return fmt.Errorf("%s: admin listener: %w", d.name, err)
	}
	if err := d.svc.Start(ctx); err != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = d.admin.Shutdown(sctx)
		return fmt.Errorf("%s: %w", d.name, err)
	}
	d.admin.SetReady(true)
	attrs := []any{}
	for _, e := range d.Endpoints() {
		attrs = append(attrs, e.Name, e.Addr)
	}
	d.log.Info("started", attrs...)
	return nil
}

// Reload re-reads the configuration and applies it. A config that does not
// load or validate, or changes what cannot change, leaves the running
// config in force; the error says why.
func (d *Daemon) Reload(ctx context.Context) error {
	if d.reload == nil {
		d.log.Info("reload requested, but the daemon has no config source; nothing to do")
		return nil
	}
	if err := d.reload(ctx); err != nil {
		d.reloadOK.Set(0)
		return err
	}
	d.reloadOK.Set(1)
	d.reloadTime.SetToCurrentTime()
	return nil
}

// Shutdown stops the daemon within ctx's deadline:
//
//  1. readiness goes false, so probes and load balancers stop sending work;
//  2. the service shuts down: it closes its listeners, drains in-flight
//     work, stops its loops and closes its storage;
//  3. the admin server stops last, so metrics stay readable while draining.
func (d *Daemon) Shutdown(ctx context.Context) error {
	d.admin.SetReady(false)
	errSvc := d.svc.Shutdown(ctx)
	// The admin server gets a moment of its own even if the drain used
	// up ctx, so that its goroutines are always gone when Shutdown returns.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	errAdmin := d.admin.Shutdown(actx)
	if errSvc != nil {
		return fmt.Errorf("%s: %w", d.name, errSvc)
	}
	if errAdmin != nil && !errors.Is(errAdmin, context.DeadlineExceeded) {
		return fmt.Errorf("%s: admin: %w", d.name, errAdmin)
	}
	return nil
}
