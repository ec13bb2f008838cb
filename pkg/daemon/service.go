package daemon

import (
	"context"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/anvilstack/anvil/pkg/admin"
)

// Service is a daemon's network service, built by its Spec.New.
type Service interface {
	// Start binds every listener and starts serving; it returns once the
	// service accepts work, so the caller can read bound addresses (port 0)
	// and announce readiness. On error nothing is left running.
	Start(ctx context.Context) error
	// Shutdown stops accepting, lets in-flight work finish until ctx ends,
	// then cuts off what is left and releases storage. The Service's doc
	// comment lists its steps in order.
	Shutdown(ctx context.Context) error
}

// Reloader is implemented by a Service that can apply a new configuration
// without a restart. Reload is all or nothing: on error the running config
// stays in force untouched.
type Reloader[C any] interface {
	Reload(ctx context.Context, cfg C) error
}

// Failer is implemented by a Service that can fail while running, after
// Start returned: a loop that cannot go on, storage that stopped accepting
// writes. The Runner then stops every daemon and exits non-zero, so that a
// supervisor (systemd's Restart=on-failure) starts it afresh instead of
// leaving a process that looks alive but cannot serve.
type Failer interface {
	// Failed delivers at most one error, then nothing.
	Failed() <-chan error
}

// Endpointer is implemented by a Service that can report its bound
// addresses (after Start), for logs, anvil up and tests.
type Endpointer interface {
	Endpoints() []Endpoint
}

// Endpoint is one address a daemon serves.
type Endpoint struct {
	Name string // what it serves: "resp", "sqs", "admin", ...
	Addr string // the bound host:port
	URL  string // how a client names it, when there is a URL form ("redis://127.0.0.1:6380")
	Env  string // the environment variable an app reads it from ("REDIS_URL"), if any
	// EnvValue is what Env is set to when it is neither the URL nor the
	// address (see EnvString).
	EnvValue string
}

// Value is how the endpoint is shown: the URL when there is one, else Addr.
func (e Endpoint) Value() string {
	if e.URL != "" {
		return e.URL
	}
	return e.Addr
}

// EnvString is what an app sets Env to: EnvValue if set, else a URL for a
// variable named *_URL and the bare address for any other (KVD_ADDR).
func (e Endpoint) EnvString() string {
	switch {
	case e.EnvValue != "":
		return e.EnvValue
	case strings.HasSuffix(e.Env, "_URL"):
		return e.Value()
	}
	return e.Addr
}

// Env is what the runtime gives a daemon's constructor.
type Env struct {
	Name     string                // the daemon's name, e.g. "cached"
	Log      *slog.Logger          // the daemon's logger
	Registry prometheus.Registerer // the daemon's own registry, served on /metrics
	Admin    *admin.Server         // for /v1/ routes and readiness checks
}
