package cached

import (
	"os"
	"strconv"
	"testing"

	"github.com/anvilstack/anvil/pkg/daemon"
	"github.com/anvilstack/anvil/pkg/daemontest"
)

// TestConfig is testConfig for the package's external tests.
var TestConfig = testConfig

// testConfig is daemontest.Config for the tests of this package, with
// event_loops from ANVIL_CACHED_EVENT_LOOPS when set: `make test` runs the
// package under both connection models (see cached/README.md).
func testConfig(tb testing.TB, spec *daemon.Spec[Config, *Config]) Config {
	tb.Helper()
	cfg := daemontest.Config(tb, spec)
	if v := os.Getenv("ANVIL_CACHED_EVENT_LOOPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			tb.Fatalf("ANVIL_CACHED_EVENT_LOOPS=%q: %v", v, err)
		}
		cfg.EventLoops = n
	}
	return cfg
}
