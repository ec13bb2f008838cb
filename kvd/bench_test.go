package kvd

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkClusterPut measures write throughput of an in-process 3-node
// cluster through the HTTP API (clients spread over the nodes, 64 at a
// time), with 1 and with 16 shards.
func BenchmarkClusterPut(b *testing.B) {
	for _, bc := range []struct {
		shards int
		sync   time.Duration
	}{{1, 0}, {16, 0}, {16, 500 * time.Microsecond}} {
		shards := bc.shards
		b.Run(fmt.Sprintf("shards=%d/sync_interval=%v", shards, bc.sync), func(b *testing.B) {
			// production timings: a saturated machine must not trigger elections
			c := startCluster(b, 3, shards, func(i int, cfg *Config) {
				d := DefaultConfig().Tuning
				cfg.Tuning.HeartbeatTimeout, cfg.Tuning.ElectionTimeout, cfg.Tuning.LeaderLeaseTimeout = d.HeartbeatTimeout, d.ElectionTimeout, d.LeaderLeaseTimeout
				cfg.Tuning.SyncInterval = bc.sync
			})
			// measure once leaderships are spread (transfers cause 503s)
			poll(b, 30*time.Second, "balanced leaderships", func() bool {
				st, err := clusterStatus(c.api(0))
				if err != nil {
					return false
				}
				lo, hi := shards, 0
				for _, n := range st.Nodes {
					lo, hi = min(lo, n.Leads), max(hi, n.Leads)
				}
				return hi-lo <= 1
			})
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
			value := bytes.Repeat([]byte("v"), 256)
			var seq, failed atomic.Int64
			b.SetParallelism(32) // x GOMAXPROCS goroutines
			var before syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					req, _ := http.NewRequest("PUT", fmt.Sprintf("http://%s/v1/kv/bench-%d", c.api(int(n%3)), n), bytes.NewReader(value))
					resp, err := hc.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						failed.Add(1)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
			// CPU per put (the three nodes and the clients): steadier than
			// puts/s on a machine shared with other work
			var after syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/put")
			b.ReportMetric(float64(failed.Load()), "failed")
		})
	}
}
