package daemontest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/anvilstack/anvil/pkg/config"
	"github.com/anvilstack/anvil/pkg/daemon"
)

// EchoConfig configures Echo.
type EchoConfig struct {
	daemon.Common `yaml:",inline"`
	Greeting      string `yaml:"greeting"`
	Workers       int    `yaml:"workers"` // cannot change on reload
	// Warmup keeps the "warm" readiness check failing for this long after
	// Start, like a daemon loading data or electing leaders.
	Warmup time.Duration `yaml:"warmup"`
}

// Validate implements daemon.Config.
func (c *EchoConfig) Validate() error {
	var ps config.Problems
	if c.Greeting == "" {
		ps.Add("greeting", "must not be empty")
	}
	if c.Workers < 1 {
		ps.Add("workers", "must be at least 1, got %d", c.Workers)
	}
	return ps.Err()
}

// Echo is a minimal daemon for testing the runtime and the anvil command:
// an HTTP service (endpoint "http") whose greeting can be reloaded (its
// workers cannot), with GET /hello, GET /slow?d=DURATION, which holds a
// request open for DURATION after sending its headers, and GET /fail,
// which makes the service report a failure (daemon.Failer). name is both its
// name and its metric namespace; port is its default port, admin port+1.
func Echo(name string, port int) *daemon.Spec[EchoConfig, *EchoConfig] {
	return &daemon.Spec[EchoConfig, *EchoConfig]{
		Name:    name,
		Summary: "a test daemon",
		Defaults: func() EchoConfig {
			return EchoConfig{
				Common:   daemon.DefaultCommon(name, fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", port+1)),
				Greeting: "hello",
				Workers:  1,
			}
		},
		Flags: []config.Flag[EchoConfig]{
			config.String("greeting", "what /hello says", func(c *EchoConfig) *string { return &c.Greeting }),
		},
		New: func(cfg EchoConfig, env daemon.Env) (daemon.Service, error) {
			s := &echoService{listen: cfg.Listen, workers: cfg.Workers, failed: make(chan error, 1)}
			env.Admin.AddCheck("warm", func(context.Context) error {
				if t := s.startedAt.Load(); t == nil || time.Since(*t) < cfg.Warmup {
					return errors.New("warming up")
				}
				return nil
			})
			s.greeting.Store(&cfg.Greeting)
			env.Admin.HandleFunc("GET /v1/greeting", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, *s.greeting.Load())
			})
			return s, nil
		},
	}
}

// echoService serves Echo.
type echoService struct {
	listen    string
	workers   int
	greeting  atomic.Pointer[string]
	ln        net.Listener
	srv       *http.Server
	done      chan struct{}
	failed    chan error
	startedAt atomic.Pointer[time.Time]
}

// Start implements daemon.Service.
func (s *echoService) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return err
	}
	s.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, *s.greeting.Load()) })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.failed <- errors.New("failure requested over /fail"):
		default:
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		w.WriteHeader(200)
		w.(http.Flusher).Flush() // the client sees the request begun
		time.Sleep(d)
		fmt.Fprint(w, "done")
	})
	s.srv = &http.Server{Handler: mux}
	now := time.Now()
	s.startedAt.Store(&now)
	s.done = make(chan struct{})
	go func() { defer close(s.done); _ = s.srv.Serve(ln) }()
	return nil
}

// Shutdown closes the listener, waits for in-flight requests until ctx
// ends, then closes what is left.
func (s *echoService) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}

// Reload implements daemon.Reloader.
func (s *echoService) Reload(ctx context.Context, cfg EchoConfig) error {
	if cfg.Workers != s.workers {
		return errors.New("workers cannot change without a restart")
	}
	s.greeting.Store(&cfg.Greeting)
	return nil
}

// Failed implements daemon.Failer: GET /fail makes the service fail.
func (s *echoService) Failed() <-chan error { return s.failed }

// Endpoints implements daemon.Endpointer.
func (s *echoService) Endpoints() []daemon.Endpoint {
	return []daemon.Endpoint{{Name: "http", Addr: s.ln.Addr().String(), URL: "http://" + s.ln.Addr().String(), Env: "ECHO_URL"}}
}
