package admin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/anvilstack/anvil/pkg/logging"
)

func start(t *testing.T, cfg Config) (*Server, string, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s := New(cfg, reg, logging.Discard())
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s, "http://" + s.Addr().String(), reg
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetricsParse(t *testing.T) {
	_, base, reg := start(t, Config{Listen: "127.0.0.1:0"})
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "anvil_test_requests_total", Help: "x"}, []string{"result"})
	reg.MustRegister(c)
	c.WithLabelValues("ok").Add(3)

	code, body := get(t, base+"/metrics", "")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("metrics do not parse: %v\n%s", err, body)
	}
	f := fams["anvil_test_requests_total"]
	if f == nil || len(f.Metric) != 1 || f.Metric[0].GetCounter().GetValue() != 3 {
		t.Fatalf("counter missing or wrong: %v", f)
	}
}

func TestTokenEnforced(t *testing.T) {
	s, base, _ := start(t, Config{Listen: "127.0.0.1:0", Token: "s3cret"})
	s.HandleFunc("GET /v1/thing", func(w http.ResponseWriter, r *http.Request) { WriteJSON(w, 200, map[string]int{"n": 1}) })
	s.SetReady(true)

	for _, path := range []string{"/metrics", "/v1/thing", "/debug/pprof/", "/v1/nothing"} {
		if code, _ := get(t, base+path, ""); code != http.StatusUnauthorized {
			t.Errorf("%s without token: %d, want 401", path, code)
		}
		if code, _ := get(t, base+path, "wrong"); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d, want 401", path, code)
		}
	}
	if code, body := get(t, base+"/v1/thing", "s3cret"); code != 200 || !strings.Contains(body, `"n": 1`) {
		t.Errorf("/v1/thing with token: %d %s", code, body)
	}
	if code, _ := get(t, base+"/debug/pprof/", "s3cret"); code != 200 {
		t.Errorf("/debug/pprof/ with token: %d", code)
	}
	if code, body := get(t, base+"/v1/nothing", "s3cret"); code != 404 || !strings.Contains(body, `"error"`) {
		t.Errorf("unknown /v1 route: %d %s, want 404 with a JSON error", code, body)
	}
	// Probes stay open.
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _ := get(t, base+path, ""); code != 200 {
			t.Errorf("%s without token: %d, want 200", path, code)
		}
	}
	// Rotating the token takes effect at once.
	s.SetToken("new")
	if code, _ := get(t, base+"/metrics", "s3cret"); code != http.StatusUnauthorized {
		t.Errorf("old token still accepted: %d", code)
	}
	if code, _ := get(t, base+"/metrics", "new"); code != 200 {
		t.Errorf("new token refused: %d", code)
	}
}

func TestReadyzFlips(t *testing.T) {
	s, base, _ := start(t, Config{Listen: "127.0.0.1:0"})
	if code, _ := get(t, base+"/healthz", ""); code != 200 {
		t.Fatalf("/healthz before ready: %d", code)
	}
	if code, body := get(t, base+"/readyz", ""); code != 503 || !strings.Contains(body, "[-]started") {
		t.Fatalf("/readyz before SetReady: %d %q, want 503", code, body)
	}
	s.SetReady(true)
	if code, body := get(t, base+"/readyz", ""); code != 200 || body != "ok\n" {
		t.Fatalf("/readyz after SetReady: %d %q", code, body)
	}
	var storeErr atomic.Pointer[error]
	notOpen := errors.New("store not open")
	storeErr.Store(&notOpen)
	s.AddCheck("store", func(context.Context) error { return *storeErr.Load() })
	s.AddCheck("zones", func(context.Context) error { return nil })
	code, body := get(t, base+"/readyz", "")
	if code != 503 || !strings.Contains(body, "[-]store failed: store not open") || !strings.Contains(body, "[+]zones ok") {
		t.Fatalf("/readyz with a failing check: %d %q", code, body)
	}
	var none error
	storeErr.Store(&none)
	if code, body := get(t, base+"/readyz?verbose", ""); code != 200 || !strings.Contains(body, "[+]store ok") {
		t.Fatalf("/readyz?verbose after the check passes: %d %q", code, body)
	}
	s.SetReady(false)
	if code, _ := get(t, base+"/readyz", ""); code != 503 {
		t.Fatalf("/readyz after SetReady(false): %d", code)
	}
}
