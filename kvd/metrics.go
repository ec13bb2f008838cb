package kvd

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are kvd's own series (anvil_kvd_*). Per-shard Raft figures and
// pebble statistics are read at scrape time by a collector, so nothing on
// the request path touches them.
type metrics struct {
	requests struct {
		get, getStale, put, del, scan prometheus.Counter
	}
	proposals      prometheus.Counter
	writeRounds    prometheus.Counter
	readRounds     prometheus.Counter
	applySeconds   prometheus.Histogram
	appliedEntries prometheus.Counter
	unavailable    prometheus.Counter
	transfers      prometheus.Counter
	forwards       struct {
		ok, notLeader, dialFailed, failed prometheus.Counter
	}
}

func newMetrics(reg prometheus.Registerer, s *Service) *metrics {
	m := &metrics{}
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "anvil_kvd_requests_total", Help: "KV API requests received, by operation.",
	}, []string{"op"})
	m.requests.get = reqs.WithLabelValues("get")
	m.requests.getStale = reqs.WithLabelValues("get_stale")
	m.requests.put = reqs.WithLabelValues("put")
	m.requests.del = reqs.WithLabelValues("delete")
	m.requests.scan = reqs.WithLabelValues("scan")
	m.proposals = prometheus.NewCounter(prometheus.CounterOpts{Name: "anvil_kvd_proposals_total", Help: "Writes proposed to shard Raft groups led by this node."})
	m.writeRounds = prometheus.NewCounter(prometheus.CounterOpts{Name: "anvil_kvd_write_rounds_total", Help: "Raft entries proposed for writes by this node (each carries a batch of writes)."})
	m.readRounds = prometheus.NewCounter(prometheus.CounterOpts{Name: "anvil_kvd_read_index_rounds_total", Help: "Leadership confirmations for linearizable reads (each serves a batch of reads)."})
	m.applySeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "anvil_kvd_apply_duration_seconds", Help: "Time to apply one batch of committed entries to a shard's state machine.",
		Buckets: prometheus.ExponentialBuckets(0.00005, 4, 8),
	})
	m.appliedEntries = prometheus.NewCounter(prometheus.CounterOpts{Name: "anvil_kvd_applied_entries_total", Help: "Raft entries applied to shard state machines on this node."})
	m.unavailable = prometheus.NewCounter(prometheus.CounterOpts{Name: "anvil_kvd_unavailable_total", Help: "Requests answered 503 (no quorum, timeout or unknown outcome)."})
	m.transfers = prometheus.NewCounter(prometheus.CounterOpts{Name: "anvil_kvd_leadership_transfers_total", Help: "Shard leaderships this node handed off to balance the cluster."})
	fwd := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "anvil_kvd_forwards_total", Help: "Requests forwarded to another node, by result.",
	}, []string{"result"})
	m.forwards.ok = fwd.WithLabelValues("ok")
	m.forwards.notLeader = fwd.WithLabelValues("not_leader")
	m.forwards.dialFailed = fwd.WithLabelValues("dial_failed")
	m.forwards.failed = fwd.WithLabelValues("failed")
	reg.MustRegister(reqs, m.proposals, m.writeRounds, m.readRounds, m.applySeconds, m.appliedEntries, m.unavailable, m.transfers, fwd, &collector{s: s})
	return m
}

func (m *metrics) countRequest(r *kvRequest) {
	switch r.method {
	case http.MethodGet:
		if r.stale {
			m.requests.getStale.Inc()
		} else {
			m.requests.get.Inc()
		}
	case http.MethodPut:
		m.requests.put.Inc()
	case http.MethodDelete:
		m.requests.del.Inc()
	}
}

// collector reads per-shard and storage figures at scrape time.
type collector struct{ s *Service }

var (
	descLeader    = prometheus.NewDesc("anvil_kvd_shard_leader", "1 if this node leads the shard's Raft group.", []string{"shard"}, nil)
	descTerm      = prometheus.NewDesc("anvil_kvd_shard_term", "Current Raft term of the shard's local replica.", []string{"shard"}, nil)
	descCommit    = prometheus.NewDesc("anvil_kvd_shard_commit_index", "Raft commit index of the shard's local replica.", []string{"shard"}, nil)
	descApplied   = prometheus.NewDesc("anvil_kvd_shard_applied_index", "Index applied to the shard's local state machine.", []string{"shard"}, nil)
	descSnapshots = prometheus.NewDesc("anvil_kvd_snapshots_total", "State machine snapshots taken (persist) and installed (restore) on this node.", []string{"op"}, nil)
	descDisk      = prometheus.NewDesc("anvil_kvd_pebble_disk_usage_bytes", "Disk space used by the node's pebble database.", nil, nil)
	descMemtable  = prometheus.NewDesc("anvil_kvd_pebble_memtable_bytes", "Size of pebble's memtables.", nil, nil)
	descWAL       = prometheus.NewDesc("anvil_kvd_pebble_wal_bytes", "Size of pebble's live write-ahead log.", nil, nil)
	descCompact   = prometheus.NewDesc("anvil_kvd_pebble_compactions_total", "Pebble compactions since the node started.", nil, nil)
	descFlushes   = prometheus.NewDesc("anvil_kvd_pebble_flushes_total", "Pebble memtable flushes since the node started.", nil, nil)
	descReadAmp   = prometheus.NewDesc("anvil_kvd_pebble_read_amplification", "Pebble read amplification (L0 sublevels plus non-empty levels).", nil, nil)
	descSyncs     = prometheus.NewDesc("anvil_kvd_pebble_grouped_syncs_total", "WAL syncs made for Raft appends (each shared by every append waiting for it).", nil, nil)
	descSynced    = prometheus.NewDesc("anvil_kvd_pebble_grouped_appends_total", "Raft appends and stable-store writes made durable by those syncs.", nil, nil)
	descShards    = prometheus.NewDesc("anvil_kvd_shards_hosted", "Shard replicas open on this node.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLeader, descTerm, descCommit, descApplied, descSnapshots, descDisk, descMemtable, descWAL, descCompact, descFlushes, descReadAmp, descSyncs, descSynced, descShards} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	var snaps, restores int64
	hosted := 0
	for _, g := range *s.table.Load() {
		if g == nil {
			continue
		}
		hosted++
		id := strconv.Itoa(g.id)
		leader := 0.0
		if g.isLeader() {
			leader = 1
		}
		ch <- prometheus.MustNewConstMetric(descLeader, prometheus.GaugeValue, leader, id)
		ch <- prometheus.MustNewConstMetric(descTerm, prometheus.GaugeValue, float64(g.raft.CurrentTerm()), id)
		ch <- prometheus.MustNewConstMetric(descCommit, prometheus.GaugeValue, float64(g.raft.CommitIndex()), id)
		ch <- prometheus.MustNewConstMetric(descApplied, prometheus.GaugeValue, float64(g.fsm.Applied()), id)
		snaps += g.fsm.Snapshots.Load()
		restores += g.fsm.Restores.Load()
	}
	ch <- prometheus.MustNewConstMetric(descSnapshots, prometheus.CounterValue, float64(snaps), "persist")
	ch <- prometheus.MustNewConstMetric(descSnapshots, prometheus.CounterValue, float64(restores), "restore")
	ch <- prometheus.MustNewConstMetric(descShards, prometheus.GaugeValue, float64(hosted))
	if s.db == nil || s.closed.Load() {
		return
	}
	st := s.db.Stats()
	ch <- prometheus.MustNewConstMetric(descDisk, prometheus.GaugeValue, float64(st.DiskBytes))
	ch <- prometheus.MustNewConstMetric(descMemtable, prometheus.GaugeValue, float64(st.MemtableBytes))
	ch <- prometheus.MustNewConstMetric(descWAL, prometheus.GaugeValue, float64(st.WALBytes))
	ch <- prometheus.MustNewConstMetric(descCompact, prometheus.CounterValue, float64(st.Compactions))
	ch <- prometheus.MustNewConstMetric(descFlushes, prometheus.CounterValue, float64(st.Flushes))
	ch <- prometheus.MustNewConstMetric(descReadAmp, prometheus.GaugeValue, float64(st.ReadAmp))
	ch <- prometheus.MustNewConstMetric(descSyncs, prometheus.CounterValue, float64(st.GroupedSyncs))
	ch <- prometheus.MustNewConstMetric(descSynced, prometheus.CounterValue, float64(st.GroupedCommits))
}
