package cached

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics exports cached's counters as anvil_cached_*. The hot path keeps
// its own atomic counters (INFO reads them too); this collector reads them
// at scrape time, so serving a command costs no Prometheus work at all.
type metrics struct {
	s *Server

	commands      *prometheus.Desc
	commandSecs   *prometheus.Desc
	hits          *prometheus.Desc
	misses        *prometheus.Desc
	evictions     *prometheus.Desc
	expirations   *prometheus.Desc
	clients       *prometheus.Desc
	connections   *prometheus.Desc
	rejected      *prometheus.Desc
	usedMemory    *prometheus.Desc
	maxMemory     *prometheus.Desc
	keys          *prometheus.Desc
	netIn, netOut *prometheus.Desc
}

func newMetrics(reg prometheus.Registerer, s *Server) (*metrics, error) {
	m := &metrics{
		s: s,
		commands: prometheus.NewDesc("anvil_cached_commands_total",
			"Commands processed, by command name and result (ok, error: the command replied an error; rejected: refused before running).",
			[]string{"command", "result"}, nil),
		commandSecs: prometheus.NewDesc("anvil_cached_command_duration_seconds_total",
			"Time spent running commands, by command name.", []string{"command"}, nil),
		hits:        prometheus.NewDesc("anvil_cached_keyspace_hits_total", "Key lookups that found the key.", nil, nil),
		misses:      prometheus.NewDesc("anvil_cached_keyspace_misses_total", "Key lookups that did not find the key.", nil, nil),
		evictions:   prometheus.NewDesc("anvil_cached_evicted_keys_total", "Keys evicted to stay under maxmemory.", nil, nil),
		expirations: prometheus.NewDesc("anvil_cached_expired_keys_total", "Keys deleted because their TTL passed.", nil, nil),
		clients:     prometheus.NewDesc("anvil_cached_connected_clients", "Open client connections.", nil, nil),
		connections: prometheus.NewDesc("anvil_cached_connections_total", "Client connections accepted.", nil, nil),
		rejected:    prometheus.NewDesc("anvil_cached_rejected_connections_total", "Connections refused because maxclients was reached.", nil, nil),
		usedMemory:  prometheus.NewDesc("anvil_cached_used_memory_bytes", "Bytes accounted to keys and values (INFO used_memory).", nil, nil),
		maxMemory:   prometheus.NewDesc("anvil_cached_maxmemory_bytes", "The maxmemory setting (0: no limit).", nil, nil),
		keys:        prometheus.NewDesc("anvil_cached_keys", "Keys in each database.", []string{"db"}, nil),
		netIn:       prometheus.NewDesc("anvil_cached_net_input_bytes_total", "Bytes read from clients.", nil, nil),
		netOut:      prometheus.NewDesc("anvil_cached_net_output_bytes_total", "Bytes written to clients.", nil, nil),
	}
	if reg != nil {
		if err := reg.Register(m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.commands, m.commandSecs, m.hits, m.misses, m.evictions, m.expirations,
		m.clients, m.connections, m.rejected, m.usedMemory, m.maxMemory, m.keys, m.netIn, m.netOut} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. Label values are command
// names from the table (bounded), never user input.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	s := m.s
	s.table.eachCommand(func(cmd *Command) {
		st := cmd.stats
		calls, failed, rejected := st.calls.Load(), st.failed.Load(), st.rejected.Load()
		if calls == 0 && rejected == 0 {
			return
		}
		ch <- prometheus.MustNewConstMetric(m.commands, prometheus.CounterValue, float64(calls-failed), cmd.fullName, "ok")
		ch <- prometheus.MustNewConstMetric(m.commands, prometheus.CounterValue, float64(failed), cmd.fullName, "error")
		ch <- prometheus.MustNewConstMetric(m.commands, prometheus.CounterValue, float64(rejected), cmd.fullName, "rejected")
		ch <- prometheus.MustNewConstMetric(m.commandSecs, prometheus.CounterValue, float64(st.usec.Load())/1e6, cmd.fullName)
	})
	hits, misses := s.ks.HitsMisses()
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter(m.hits, hits)
	counter(m.misses, misses)
	counter(m.evictions, s.ks.EvictedKeys())
	counter(m.expirations, s.ks.ExpiredKeys())
	gauge(m.clients, s.nclients.Load())
	counter(m.connections, s.stats.connections.Load())
	counter(m.rejected, s.stats.rejectedConns.Load())
	gauge(m.usedMemory, s.UsedMemory())
	gauge(m.maxMemory, s.ks.MaxMemory())
	counter(m.netIn, s.stats.netInput.Load())
	counter(m.netOut, s.stats.netOutput.Load())
	for i := 0; i < s.ks.DBs(); i++ {
		n := s.ks.DB(i).Size()
		if n > 0 || i == 0 {
			ch <- prometheus.MustNewConstMetric(m.keys, prometheus.GaugeValue, float64(n), "db"+itoa(int64(i)))
		}
	}
}
