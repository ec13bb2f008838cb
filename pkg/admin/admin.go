// Package admin is the admin HTTP server every Anvil daemon runs on its
// admin address: Prometheus metrics (/metrics), liveness (/healthz),
// readiness as a set of named checks (/readyz), profiling (/debug/pprof/),
// and the daemon's own management API, registered with Handle under /v1/.
//
// When a token is configured every request except /healthz and /readyz must
// carry "Authorization: Bearer <token>"; probes stay open so that systemd,
// load balancers and orchestrators need no secret.
package admin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/anvilstack/anvil/pkg/config"
)

// Config is the "admin" section of every daemon's config file.
type Config struct {
	Listen string `yaml:"listen"` // host:port of the admin HTTP listener
	Token  string `yaml:"token"`  // when set, required as a bearer token (except /healthz, /readyz)
}

// Validate reports every problem with c as config.Problems.
func (c Config) Validate() error {
	var ps config.Problems
	ps.CheckHostPort("listen", c.Listen)
	if strings.ContainsAny(c.Token, " \t\r\n") {
		ps.Add("token", "must not contain white space")
	}
	return ps.Err()
}

// CheckFunc reports whether one condition of readiness holds; a nil error
// means it does. It must return promptly: /readyz gives every check at most
// checkTimeout.
type CheckFunc func(ctx context.Context) error

const checkTimeout = 2 * time.Second

type check struct {
	name string
	fn   CheckFunc
}

// Server is a daemon's admin HTTP server. Register routes and checks before
// Start; Handle may also be called later.
type Server struct {
	log   *slog.Logger
	mux   *http.ServeMux
	token atomic.Pointer[string]
	ready atomic.Bool

	mu     sync.Mutex
	checks []check

	listen string
	ln     net.Listener
	srv    *http.Server
	done   chan struct{}
}

// New returns an admin server for cfg that serves the metrics of g.
func New(cfg Config, g prometheus.Gatherer, log *slog.Logger) *Server {
	s := &Server{log: log, mux: http.NewServeMux(), listen: cfg.Listen}
	s.SetToken(cfg.Token)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	}))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.serveReady)
	s.mux.HandleFunc("/debug/pprof/", pprof.Index)
	s.mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	s.mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	s.mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	s.mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s.mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
	})
	return s
}

// Handle registers a management route, a net/http ServeMux pattern such as
// "GET /v1/zones/{zone}". Daemon routes live under /v1/.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// HandleFunc registers a management route handled by f.
func (s *Server) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	s.mux.HandleFunc(pattern, f)
}

// AddCheck adds a named readiness check. /readyz is ready only when the
// daemon has said it is (SetReady) and every check passes.
func (s *Server) AddCheck(name string, fn CheckFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks = append(s.checks, check{name, fn})
}

// SetReady opens or closes the readiness gate. The runtime opens it once the
// daemon has started and closes it first thing on shutdown, so that load
// balancers stop sending work before listeners close.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// SetToken changes the bearer token; "" turns authentication off. It takes
// effect for the next request, so a reload can rotate the token.
func (s *Server) SetToken(token string) { s.token.Store(&token) }

// Start binds the admin listener and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin server stopped", "err", err)
		}
	}()
	return nil
}

// Addr is the bound admin address (after Start).
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Shutdown stops accepting, waits for in-flight admin requests until ctx
// ends, then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}

// ServeHTTP enforces the token, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if tok := *s.token.Load(); tok != "" && r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="anvil-admin"`)
			WriteError(w, http.StatusUnauthorized, "missing or invalid bearer token")
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// Ready reports whether the daemon is ready: the gate is open and every
// check passes. The error lists what is not.
func (s *Server) Ready(ctx context.Context) error {
	ok, report := s.evaluate(ctx)
	if ok {
		return nil
	}
	var failed []string
	for _, l := range strings.Split(report, "\n") {
		if f, found := strings.CutPrefix(l, "[-]"); found {
			failed = append(failed, f)
		}
	}
	return errors.New(strings.Join(failed, "; "))
}

// evaluate runs every check and returns whether all pass, with one line
// per check: "[+]name ok" or "[-]name failed: reason".
func (s *Server) evaluate(ctx context.Context) (bool, string) {
	s.mu.Lock()
	checks := append([]check(nil), s.checks...)
	s.mu.Unlock()
	sort.SliceStable(checks, func(i, j int) bool { return checks[i].name < checks[j].name })

	var b strings.Builder
	ok := s.ready.Load()
	if ok {
		b.WriteString("[+]started ok\n")
	} else {
		b.WriteString("[-]started failed: not serving (starting or shutting down)\n")
	}
	for _, c := range checks {
		cctx, cancel := context.WithTimeout(ctx, checkTimeout)
		err := c.fn(cctx)
		cancel()
		if err != nil {
			ok = false
			fmt.Fprintf(&b, "[-]%s failed: %v\n", c.name, err)
		} else {
			fmt.Fprintf(&b, "[+]%s ok\n", c.name)
		}
	}
	return ok, b.String()
}

// serveReady answers 200 when ready and 503 otherwise; with ?verbose it
// lists every check as "[+]name ok" or "[-]name failed: reason".
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	ok, report := s.evaluate(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	if _, verbose := r.URL.Query()["verbose"]; verbose || !ok {
		_, _ = w.Write([]byte(report))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
