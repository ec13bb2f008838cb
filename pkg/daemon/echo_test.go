package daemon_test

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

// echo is a minimal daemon for testing the runtime: an HTTP service whose
// greeting can be reloaded and whose /slow endpoint holds a request open.

type echoConfig struct {
	daemon.Common `yaml:",inline"`
	Greeting      string `yaml:"greeting"`
	Workers       int    `yaml:"workers"` // cannot change on reload
}

func (c *echoConfig) Validate() error {
	var ps config.Problems
	if c.Greeting == "" {
		ps.Add("greeting", "must not be empty")
	}
	if c.Workers < 1 {
		ps.Add("workers", "must be at least 1, got %d", c.Workers)
	}
	return ps.Err()
}

func echoSpec() *daemon.Spec[echoConfig, *echoConfig] {
	return &daemon.Spec[echoConfig, *echoConfig]{
		Name:    "echo",
		Summary: "a test daemon",
		Defaults: func() echoConfig {
			return echoConfig{
				Common:   daemon.DefaultCommon("echo", "127.0.0.1:18999", "127.0.0.1:19999"),
				Greeting: "hello",
				Workers:  1,
			}
		},
		Flags: []config.Flag[echoConfig]{
			config.String("greeting", "what /hello says", func(c *echoConfig) *string { return &c.Greeting }),
		},
		New: func(cfg echoConfig, env daemon.Env) (daemon.Service, error) {
			s := &echoService{listen: cfg.Listen, workers: cfg.Workers}
			s.greeting.Store(&cfg.Greeting)
			env.Admin.HandleFunc("GET /v1/greeting", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, *s.greeting.Load())
			})
			return s, nil
		},
	}
}

type echoService struct {
	listen   string
	workers  int
	greeting atomic.Pointer[string]
	started  chan struct{} // closed when a /slow request begins
	ln       net.Listener
	srv      *http.Server
	done     chan struct{}
}

func (s *echoService) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return err
	}
	s.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, *s.greeting.Load()) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		w.WriteHeader(200)
		w.(http.Flusher).Flush() // the client sees the request begun
		time.Sleep(d)
		fmt.Fprint(w, "done")
	})
	s.srv = &http.Server{Handler: mux}
	s.done = make(chan struct{})
	go func() { defer close(s.done); _ = s.srv.Serve(ln) }()
	return nil
}

// Shutdown closes the listener, waits for in-flight requests, then returns.
func (s *echoService) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}

func (s *echoService) Reload(ctx context.Context, cfg echoConfig) error {
	if cfg.Workers != s.workers {
		return errors.New("workers cannot change without a restart")
	}
	s.greeting.Store(&cfg.Greeting)
	return nil
}

func (s *echoService) Endpoints() []daemon.Endpoint {
	return []daemon.Endpoint{{Name: "http", Addr: s.ln.Addr().String(), URL: "http://" + s.ln.Addr().String(), Env: "ECHO_URL"}}
}
