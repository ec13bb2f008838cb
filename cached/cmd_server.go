package cached

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/anvilstack/anvil/cached/store"
	"github.com/anvilstack/anvil/pkg/buildinfo"
)

// Server commands: INFO DBSIZE FLUSHDB FLUSHALL CONFIG TIME COMMAND MEMORY
// OBJECT LATENCY SLOWLOG LASTSAVE.

func serverCommands() []*Command {
	return []*Command{
		{Name: "info", Arity: -1, Flags: FlagLoading | FlagStale, Handler: cmdInfo,
			Group: "server", ACL: []string{"@dangerous"}, Since: "1.0.0", Summary: "Returns information and statistics about the server.", Complexity: "O(1)"},
		{Name: "dbsize", Arity: 1, Flags: FlagReadOnly | FlagFast | FlagKeyspace, Handler: cmdDBSize,
			Group: "server", ACL: []string{"@keyspace"}, Since: "1.0.0", Summary: "Returns the number of keys in the database.", Complexity: "O(1)"},
		{Name: "flushdb", Arity: -1, Flags: FlagWrite | FlagKeyspace, Handler: cmdFlushDB,
			Group: "server", ACL: []string{"@keyspace", "@dangerous"}, Since: "1.0.0", Summary: "Remove all keys from the current database.", Complexity: "O(N) where N is the number of keys in the selected database"},
		{Name: "flushall", Arity: -1, Flags: FlagWrite | FlagKeyspace, Handler: cmdFlushAll,
			Group: "server", ACL: []string{"@keyspace", "@dangerous"}, Since: "1.0.0", Summary: "Removes all keys from all databases.", Complexity: "O(N) where N is the total number of keys in all databases"},
		{Name: "time", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Handler: cmdTime,
			Group: "server", Since: "2.6.0", Summary: "Returns the server time.", Complexity: "O(1)"},
		{Name: "lastsave", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Handler: cmdLastSave,
			Group: "server", ACL: []string{"@admin", "@dangerous"}, Since: "1.0.0", Summary: "Returns the Unix timestamp of the last successful save to disk.", Complexity: "O(1)"},
		{Name: "save", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagNoAsyncLoading | FlagNoMulti, Handler: cmdSave,
			Group: "server", Since: "1.0.0", Summary: "Synchronously saves the database(s) to disk.", Complexity: "O(N) where N is the total number of keys in all databases"},
		{Name: "bgsave", Arity: -1, Flags: FlagAdmin | FlagNoScript | FlagNoAsyncLoading, Handler: cmdBgSave,
			Group: "server", Since: "1.0.0", Summary: "Asynchronously saves the database(s) to disk.", Complexity: "O(1)"},
		{Name: "config", Arity: -2, Group: "server", Since: "2.0.0", Summary: "A container for server configuration commands.", Complexity: "Depends on subcommand.",
			Subcommands: []*Command{
				{Name: "get", Arity: -3, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Handler: cmdConfigGet, Group: "server", Since: "2.0.0", Summary: "Returns the effective values of configuration parameters.", Complexity: "O(N) when N is the number of configuration parameters provided"},
				{Name: "set", Arity: -4, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Handler: cmdConfigSet, Group: "server", Since: "2.0.0", Summary: "Sets configuration parameters in-flight.", Complexity: "O(N) when N is the number of configuration parameters provided"},
				{Name: "resetstat", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Handler: cmdConfigResetStat, Group: "server", Since: "2.0.0", Summary: "Resets the server's statistics.", Complexity: "O(1)"},
				{Name: "rewrite", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Handler: cmdConfigRewrite, Group: "server", Since: "2.8.0", Summary: "Persists the effective configuration to file.", Complexity: "O(1)"},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdConfigHelp, Group: "server", Since: "5.0.0", Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)"},
			}},
		{Name: "command", Arity: -1, Flags: FlagLoading | FlagStale, Handler: cmdCommand, Group: "server", ACL: []string{"@connection"}, Since: "2.8.13", Summary: "Returns detailed information about all commands.", Complexity: "O(N) where N is the total number of Redis commands",
			Subcommands: []*Command{
				{Name: "count", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdCommandCount, Group: "server", ACL: []string{"@connection"}, Since: "2.8.13", Summary: "Returns a count of commands.", Complexity: "O(1)"},
				{Name: "info", Arity: -2, Flags: FlagLoading | FlagStale, Handler: cmdCommandInfo, Group: "server", ACL: []string{"@connection"}, Since: "2.8.13", Summary: "Returns information about one, multiple or all commands.", Complexity: "O(N) where N is the number of commands to look up"},
				{Name: "docs", Arity: -2, Flags: FlagLoading | FlagStale, Handler: cmdCommandDocs, Group: "server", ACL: []string{"@connection"}, Since: "7.0.0", Summary: "Returns documentary information about one, multiple or all commands.", Complexity: "O(N) where N is the number of commands to look up"},
				{Name: "list", Arity: -2, Flags: FlagLoading | FlagStale, Handler: cmdCommandList, Group: "server", ACL: []string{"@connection"}, Since: "7.0.0", Summary: "Returns a list of command names.", Complexity: "O(N) where N is the total number of Redis commands"},
				{Name: "getkeysandflags", Arity: -4, Flags: FlagLoading | FlagStale, Handler: cmdCommandGetKeysAndFlags, Group: "server", ACL: []string{"@connection"}, Since: "7.0.0", Summary: "Extracts the key names and access flags for an arbitrary command.", Complexity: "O(N) where N is the number of arguments to the command"},
				{Name: "getkeys", Arity: -4, Flags: FlagLoading | FlagStale, Handler: cmdCommandGetKeys, Group: "server", ACL: []string{"@connection"}, Since: "2.8.13", Summary: "Extracts the key names from an arbitrary command.", Complexity: "O(N) where N is the number of arguments to the command"},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdCommandHelp, Group: "server", ACL: []string{"@connection"}, Since: "5.0.0", Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)"},
			}},
		{Name: "memory", Arity: -2, Group: "server", Since: "4.0.0", Summary: "A container for memory diagnostics commands.", Complexity: "Depends on subcommand.",
			Subcommands: []*Command{
				{Name: "usage", Arity: -3, Flags: FlagReadOnly, First: 2, Last: 2, Step: 1, KeySpecs: []string{"RO"}, Handler: cmdMemoryUsage, Group: "server", Since: "4.0.0", Summary: "Estimates the memory usage of a key.", Complexity: "O(N) where N is the number of samples."},
				{Name: "stats", Arity: 2, Handler: cmdMemoryStats, Group: "server", Since: "4.0.0", Summary: "Returns details about memory usage.", Complexity: "O(1)"},
				{Name: "doctor", Arity: 2, Handler: cmdMemoryDoctor, Group: "server", Since: "4.0.0", Summary: "Outputs a memory problems report.", Complexity: "O(1)"},
				{Name: "purge", Arity: 2, Handler: cmdMemoryPurge, Group: "server", Since: "4.0.0", Summary: "Asks the allocator to release memory.", Complexity: "Depends on how much memory is allocated, could be slow"},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdMemoryHelp, Group: "server", Since: "4.0.0", Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)"},
			}},
		{Name: "object", Arity: -2, Group: "generic", Since: "2.2.3", Summary: "A container for object introspection commands.", Complexity: "Depends on subcommand.",
			Subcommands: []*Command{
				{Name: "encoding", Arity: 3, Flags: FlagReadOnly, First: 2, Last: 2, Step: 1, KeySpecs: []string{"RO"}, Handler: cmdObjectEncoding, Group: "generic", Since: "2.2.3", Summary: "Returns the internal encoding of a Redis object.", Complexity: "O(1)"},
				{Name: "freq", Arity: 3, Flags: FlagReadOnly, First: 2, Last: 2, Step: 1, KeySpecs: []string{"RO"}, Handler: cmdObjectFreq, Group: "generic", Since: "4.0.0", Summary: "Returns the logarithmic access frequency counter of a Redis object.", Complexity: "O(1)"},
				{Name: "idletime", Arity: 3, Flags: FlagReadOnly, First: 2, Last: 2, Step: 1, KeySpecs: []string{"RO"}, Handler: cmdObjectIdleTime, Group: "generic", Since: "2.2.3", Summary: "Returns the time since the last access to a Redis object.", Complexity: "O(1)"},
				{Name: "refcount", Arity: 3, Flags: FlagReadOnly, First: 2, Last: 2, Step: 1, KeySpecs: []string{"RO"}, Handler: cmdObjectRefCount, Group: "generic", Since: "2.2.3", Summary: "Returns the reference count of a value of a key.", Complexity: "O(1)"},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdObjectHelp, Group: "generic", Since: "6.2.0", Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)"},
			}},
		{Name: "slowlog", Arity: -2, Group: "server", Since: "2.2.12", Summary: "A container for slow log commands.", Complexity: "Depends on subcommand.",
			Subcommands: []*Command{
				{Name: "get", Arity: -2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdSlowlogGet, Group: "server", Since: "2.2.12", Summary: "Returns the slow log's entries.", Complexity: "O(N) where N is the number of entries returned"},
				{Name: "len", Arity: 2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdSlowlogLen, Group: "server", Since: "2.2.12", Summary: "Returns the number of entries in the slow log.", Complexity: "O(1)"},
				{Name: "reset", Arity: 2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdSlowlogReset, Group: "server", Since: "2.2.12", Summary: "Clears all entries from the slow log.", Complexity: "O(N) where N is the number of entries in the slowlog"},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdSlowlogHelp, Group: "server", Since: "6.2.0", Summary: "Show helpful text about the different subcommands", Complexity: "O(1)"},
			}},
		{Name: "function", Arity: -2, Group: "scripting", Since: "7.0.0", Summary: "A container for function commands.", Complexity: "Depends on subcommand.",
			Subcommands: []*Command{
				// cached runs no scripts: there are never functions to list
				// or flush, but clients and test harnesses call these.
				{Name: "flush", Arity: -2, Flags: FlagWrite | FlagNoScript, Handler: cmdFunctionFlush, Group: "scripting", Since: "7.0.0", Summary: "Deletes all libraries and functions.", Complexity: "O(N) where N is the number of functions deleted"},
				{Name: "list", Arity: -2, Flags: FlagNoScript, Handler: cmdFunctionList, Group: "scripting", Since: "7.0.0", Summary: "Returns information about all libraries.", Complexity: "O(N) where N is the number of functions"},
			}},
		{Name: "latency", Arity: -2, Group: "server", Since: "2.8.13", Summary: "A container for latency diagnostics commands.", Complexity: "Depends on subcommand.",
			Subcommands: []*Command{
				{Name: "latest", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Handler: cmdLatencyLatest, Group: "server", Since: "2.8.13", Summary: "Returns the latest latency samples for all events.", Complexity: "O(1)"},
				{Name: "history", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Handler: cmdLatencyHistory, Group: "server", Since: "2.8.13", Summary: "Returns timestamp-latency samples for an event.", Complexity: "O(1)"},
				{Name: "reset", Arity: -2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Handler: cmdLatencyReset, Group: "server", Since: "2.8.13", Summary: "Resets the latency data for one or more events.", Complexity: "O(1)"},
				{Name: "histogram", Arity: -2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Handler: cmdLatencyHistogram, Group: "server", Since: "7.0.0", Summary: "Returns the cumulative distribution of latencies of a subset or all commands.", Complexity: "O(N) where N is the number of commands with latency information being retrieved."},
				{Name: "doctor", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Handler: cmdLatencyDoctor, Group: "server", Since: "2.8.13", Summary: "Returns a human-readable latency analysis report.", Complexity: "O(1)"},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdLatencyHelp, Group: "server", Since: "2.8.13", Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)"},
			}},
	}
}

func cmdDBSize(c *Client, args [][]byte) {
	if c.inExec {
		n, _ := c.db.SizeLocked()
		c.ReplyInt(int64(n))
		return
	}
	c.ReplyInt(int64(c.db.Size()))
}

// flushMode parses FLUSHDB/FLUSHALL's optional ASYNC|SYNC.
func flushMode(c *Client, args [][]byte) bool {
	if len(args) > 2 {
		c.ReplyError(ErrSyntax)
		return false
	}
	if len(args) == 2 && !EqualFold(args[1], "async") && !EqualFold(args[1], "sync") {
		c.ReplyError(ErrSyntax)
		return false
	}
	return true
}

func cmdFlushDB(c *Client, args [][]byte) {
	if !flushMode(c, args) {
		return
	}
	// ASYNC and SYNC both free at once: dropping the maps makes the old
	// data garbage, which the Go collector reclaims in the background.
	c.LockDB(c.db)
	c.db.Flush()
	c.UnlockDB()
	c.ReplyOK()
}

func cmdFlushAll(c *Client, args [][]byte) {
	if !flushMode(c, args) {
		return
	}
	c.LockAll()
	for i := 0; i < c.srv.ks.DBs(); i++ {
		c.srv.ks.DB(i).Flush()
	}
	c.UnlockDB()
	c.ReplyOK()
}

func cmdTime(c *Client, args [][]byte) {
	now := time.Now()
	c.ReplyArray(2)
	c.ReplyBulkInt(now.Unix())
	c.ReplyBulkInt(int64(now.Nanosecond() / 1000))
}

func cmdLastSave(c *Client, args [][]byte) { c.ReplyInt(c.srv.persist.lastSave.Load()) }

func cmdSave(c *Client, args [][]byte) {
	if c.srv.persist.inProgress.Load() {
		c.ReplyError("ERR Background save already in progress")
		return
	}
	if err := c.srv.Save(); err != nil {
		c.ReplyError("ERR " + err.Error())
		return
	}
	c.ReplyOK()
}

func cmdBgSave(c *Client, args [][]byte) {
	schedule := false
	if len(args) > 1 {
		if len(args) != 2 || !EqualFold(args[1], "schedule") {
			c.ReplyError(ErrSyntax)
			return
		}
		schedule = true
	}
	if !c.srv.BackgroundSave() {
		if schedule {
			c.ReplySimple("Background saving scheduled")
			return
		}
		c.ReplyError("ERR Background save already in progress")
		return
	}
	c.ReplySimple("Background saving started")
}

// ---- INFO ----

var defaultInfoSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"}

func cmdInfo(c *Client, args [][]byte) {
	want := map[string]bool{}
	if len(args) == 1 {
		for _, s := range defaultInfoSections {
			want[s] = true
		}
	}
	for _, a := range args[1:] {
		s := strings.ToLower(string(a))
		switch s {
		case "default":
			for _, d := range defaultInfoSections {
				want[d] = true
			}
		case "all":
			for _, d := range defaultInfoSections {
				want[d] = true
			}
			want["commandstats"], want["latencystats"] = true, true
		case "everything":
			for _, d := range defaultInfoSections {
				want[d] = true
			}
			want["commandstats"], want["latencystats"] = true, true
		default:
			want[s] = true
		}
	}
	b := c.srv.info(c.Scratch(), want)
	c.ReplyVerbatim(b)
	c.SetScratch(b)
}

func humanBytes(n int64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", f/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", f/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", f/(1<<30))
	}
	return fmt.Sprintf("%.2fT", f/(1<<40))
}

// clientOverhead is what one connection costs beyond its buffers: its
// goroutine's stack and the Client value.
const clientOverhead = 8<<10 + 2<<10

// UsedMemory is used_memory: the bytes keys and values take, which is
// what maxmemory bounds. Unlike Redis's, it leaves out the server's own
// baseline and the connections' buffers (INFO reports those as
// used_memory_overhead), so that used_memory and the eviction limit mean
// the same bytes.
func (s *Server) UsedMemory() int64 { return s.ks.UsedMemory() }

func (s *Server) info(b []byte, want map[string]bool) []byte {
	sep := false
	section := func(name string) bool {
		if !want[strings.ToLower(name)] {
			return false
		}
		if sep {
			b = append(b, "\r\n"...)
		}
		sep = true
		b = append(b, "# "+name+"\r\n"...)
		return true
	}
	line := func(k string, v any) { b = fmt.Appendf(b, "%s:%v\r\n", k, v) }
	now := time.Now()
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	if section("Server") {
		bi := buildinfo.Read()
		line("redis_version", RedisVersion)
		line("redis_git_sha1", "00000000")
		line("redis_git_dirty", 0)
		line("redis_build_id", "0")
		line("redis_mode", "standalone")
		line("anvil_version", bi.Version)
		line("os", runtime.GOOS+" "+runtime.GOARCH)
		line("arch_bits", 64)
		line("monotonic_clock", "POSIX clock_gettime")
		line("multiplexing_api", "epoll")
		line("atomicvar_api", "go-sync-atomic")
		line("go_version", runtime.Version())
		line("process_id", os.Getpid())
		line("process_supervised", "no")
		line("run_id", s.runID)
		line("tcp_port", s.port())
		line("server_time_usec", now.UnixMicro())
		up := int64(now.Sub(s.started) / time.Second)
		line("uptime_in_seconds", up)
		line("uptime_in_days", up/86400)
		line("hz", s.cfg.Hz)
		line("configured_hz", s.cfg.Hz)
		line("lru_clock", (now.Unix())&(1<<24-1))
		exe, _ := os.Executable()
		line("executable", exe)
		line("config_file", "")
		line("io_threads_active", 0)
	}
	if section("Clients") {
		line("connected_clients", s.nclients.Load())
		line("cluster_connections", 0)
		line("maxclients", s.maxClients.Load())
		line("client_recent_max_input_buffer", 0)
		line("client_recent_max_output_buffer", 0)
		line("blocked_clients", s.blockedClients.Load())
		line("tracking_clients", s.trackingClients())
		line("clients_in_timeout_table", 0)
		b = s.infoExtra(b, "clients")
	}
	if section("Memory") {
		used := s.UsedMemory()
		if used > s.peakMem.Load() {
			s.peakMem.Store(used)
		}
		peak := s.peakMem.Load()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss := rssBytes()
		line("used_memory", used)
		line("used_memory_human", humanBytes(used))
		line("used_memory_rss", rss)
		line("used_memory_rss_human", humanBytes(rss))
		line("used_memory_peak", peak)
		line("used_memory_peak_human", humanBytes(peak))
		line("used_memory_peak_perc", fmt.Sprintf("%.2f%%", 100*float64(used)/float64(max(peak, 1))))
		line("used_memory_overhead", s.clientsMemory())
		line("used_memory_startup", 0)
		line("used_memory_dataset", s.ks.UsedMemory())
		line("used_memory_dataset_perc", fmt.Sprintf("%.2f%%", 100*float64(s.ks.UsedMemory())/float64(max(used, 1))))
		line("go_heap_alloc", ms.HeapAlloc)
		line("go_heap_sys", ms.HeapSys)
		line("go_gc_cycles", ms.NumGC)
		line("total_system_memory", totalSystemMemory())
		line("total_system_memory_human", humanBytes(totalSystemMemory()))
		mm := s.ks.MaxMemory()
		line("maxmemory", mm)
		line("maxmemory_human", humanBytes(mm))
		line("maxmemory_policy", s.ks.Policy().String())
		line("mem_fragmentation_ratio", fmt.Sprintf("%.2f", float64(rss)/float64(max(used, 1))))
		line("mem_not_counted_for_evict", 0)
		line("mem_allocator", "go")
		line("lazyfree_pending_objects", 0)
		line("lazyfreed_objects", 0)
	}
	if section("Persistence") {
		line("loading", 0)
		line("async_loading", 0)
		line("rdb_changes_since_last_save", s.changesSinceSave())
		line("rdb_bgsave_in_progress", b2i(s.persist.inProgress.Load()))
		line("rdb_last_save_time", s.persist.lastSave.Load())
		status := "ok"
		if !s.persist.lastOK.Load() {
			status = "err"
		}
		line("rdb_last_bgsave_status", status)
		line("aof_enabled", 0)
		line("aof_rewrite_in_progress", 0)
		line("aof_last_bgrewrite_status", "ok")
		line("aof_last_write_status", "ok")
	}
	if section("Stats") {
		hits, misses := s.ks.HitsMisses()
		line("total_connections_received", s.stats.connections.Load())
		line("total_commands_processed", s.totalCommands())
		line("instantaneous_ops_per_sec", 0)
		line("total_net_input_bytes", s.stats.netInput.Load())
		line("total_net_output_bytes", s.stats.netOutput.Load())
		line("rejected_connections", s.stats.rejectedConns.Load())
		line("expired_keys", s.ks.ExpiredKeys())
		line("expired_stale_perc", "0.00")
		line("expired_time_cap_reached_count", 0)
		line("evicted_keys", s.ks.EvictedKeys())
		line("evicted_clients", 0)
		line("keyspace_hits", hits)
		line("keyspace_misses", misses)
		line("total_error_replies", s.totalErrors())
		line("total_reads_processed", 0)
		line("total_writes_processed", 0)
		b = s.infoExtra(b, "stats")
	}
	if section("Replication") {
		line("role", "master")
		line("connected_slaves", 0)
		line("master_failover_state", "no-failover")
		line("master_replid", s.runID)
		line("master_replid2", "0000000000000000000000000000000000000000")
		line("master_repl_offset", 0)
		line("second_repl_offset", -1)
		line("repl_backlog_active", 0)
		line("repl_backlog_size", 1048576)
		line("repl_backlog_first_byte_offset", 0)
		line("repl_backlog_histlen", 0)
	}
	if section("CPU") {
		line("used_cpu_sys", fmt.Sprintf("%.6f", tvSeconds(ru.Stime)))
		line("used_cpu_user", fmt.Sprintf("%.6f", tvSeconds(ru.Utime)))
		line("used_cpu_sys_children", "0.000000")
		line("used_cpu_user_children", "0.000000")
	}
	if section("Modules") {
	}
	if section("Errorstats") {
		s.stats.errMu.Lock()
		codes := make([]string, 0, len(s.stats.errors))
		for k := range s.stats.errors {
			codes = append(codes, k)
		}
		sort.Strings(codes)
		for _, k := range codes {
			b = fmt.Appendf(b, "errorstat_%s:count=%d\r\n", k, s.stats.errors[k])
		}
		s.stats.errMu.Unlock()
	}
	if section("Cluster") {
		line("cluster_enabled", 0)
	}
	if section("Keyspace") {
		for i := 0; i < s.ks.DBs(); i++ {
			db := s.ks.DB(i)
			keys, vol := 0, 0
			for j := 0; j < db.Shards(); j++ {
				sh := db.ShardAt(j)
				sh.LockRead()
				k, v := sh.Counts()
				sh.Unlock()
				keys += k
				vol += v
			}
			if keys > 0 {
				b = fmt.Appendf(b, "db%d:keys=%d,expires=%d,avg_ttl=0\r\n", i, keys, vol)
			}
		}
	}
	if section("Commandstats") {
		s.table.eachCommand(func(cmd *Command) {
			st := cmd.stats
			calls, rej, failed := st.calls.Load(), st.rejected.Load(), st.failed.Load()
			if calls == 0 && rej == 0 && failed == 0 {
				return
			}
			usec := st.usec.Load()
			per := 0.0
			if calls > 0 {
				per = float64(usec) / float64(calls)
			}
			b = fmt.Appendf(b, "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d\r\n",
				cmd.fullName, calls, usec, per, rej, failed)
		})
	}
	if section("Latencystats") {
	}
	return b
}

// infoExtra lets families append fields to a section.
func (s *Server) infoExtra(b []byte, section string) []byte {
	for _, h := range s.hooks.InfoFields {
		b = h(section, b)
	}
	return b
}

func tvSeconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

func (s *Server) totalCommands() int64 {
	var n int64
	s.table.eachCommand(func(cmd *Command) { n += cmd.stats.calls.Load() })
	return n
}

func (s *Server) totalErrors() int64 {
	s.stats.errMu.Lock()
	defer s.stats.errMu.Unlock()
	var n int64
	for _, v := range s.stats.errors {
		n += v
	}
	return n
}

// clientsMemory estimates what connections take: buffers and stacks.
func (s *Server) clientsMemory() int64 {
	var n int64
	for _, c := range s.Clients() {
		n += c.state.qbufCap.Load() + c.state.outCap.Load() + clientOverhead
	}
	return n
}

func (s *Server) port() int {
	ln := s.listener()
	if ln == nil {
		return 0
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// rssBytes reads the resident set size from /proc (0 where there is none).
func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// ---- COMMAND ----

func cmdCommand(c *Client, args [][]byte) {
	c.ReplyArray(len(c.srv.table.list))
	for _, cmd := range c.srv.table.list {
		c.replyCommandInfo(cmd)
	}
}

func cmdCommandCount(c *Client, args [][]byte) { c.ReplyInt(int64(c.srv.table.Len())) }

func (c *Client) commandByName(name []byte) *Command {
	n := strings.ToLower(string(name))
	if parent, sub, ok := strings.Cut(n, "|"); ok {
		if p := c.srv.table.byName[parent]; p != nil && p.subs != nil {
			return p.subs[sub]
		}
		return nil
	}
	return c.srv.table.byName[n]
}

func cmdCommandInfo(c *Client, args [][]byte) {
	if len(args) == 2 {
		cmdCommand(c, args)
		return
	}
	c.ReplyArray(len(args) - 2)
	for _, a := range args[2:] {
		if cmd := c.commandByName(a); cmd != nil {
			c.replyCommandInfo(cmd)
		} else {
			c.ReplyNull()
		}
	}
}

// aclCategories derives a command's ACL categories from its group and
// flags, as Redis's table declares them.
func (cmd *Command) aclCategories() []string {
	var cats []string
	if cmd.Flags&FlagWrite != 0 {
		cats = append(cats, "@write")
	}
	if cmd.Flags&FlagReadOnly != 0 {
		cats = append(cats, "@read")
	}
	if cmd.Group != "" && cmd.Group != "server" && cmd.Group != "transactions" && !cmd.ACLNoGroup && len(cmd.Subcommands) == 0 {
		switch g := cmd.Group; g {
		case "generic":
			cats = append(cats, "@keyspace")
		case "sorted_set":
			cats = append(cats, "@sortedset")
		default:
			cats = append(cats, "@"+g)
		}
	}
	if cmd.Group == "transactions" {
		cats = append(cats, "@transaction")
	}
	if cmd.Flags&FlagAdmin != 0 {
		cats = append(cats, "@admin", "@dangerous")
	}
	if cmd.Flags&FlagFast != 0 {
		cats = append(cats, "@fast")
	} else {
		cats = append(cats, "@slow")
	}
	if cmd.Flags&FlagBlocking != 0 {
		cats = append(cats, "@blocking")
	}
	if cmd.Flags&FlagPubSub != 0 {
		cats = append(cats, "@pubsub")
	}
	cats = append(cats, cmd.ACL...)
	// Redis lists a command's categories in the order of its category
	// table (ACL CAT), whatever order they were declared in.
	slices.SortStableFunc(cats, func(a, b string) int { return aclOrder(a) - aclOrder(b) })
	return slices.Compact(cats)
}

// aclCategoryOrder is Redis's ACL category table, in its order.
var aclCategoryOrder = []string{"@keyspace", "@read", "@write", "@set", "@sortedset", "@list", "@hash",
	"@string", "@bitmap", "@hyperloglog", "@geo", "@stream", "@pubsub", "@admin", "@fast", "@slow",
	"@blocking", "@dangerous", "@connection", "@transaction", "@scripting"}

func aclOrder(cat string) int {
	if i := slices.Index(aclCategoryOrder, cat); i >= 0 {
		return i
	}
	return len(aclCategoryOrder)
}

func (c *Client) replyCommandInfo(cmd *Command) {
	c.ReplyArray(10)
	c.ReplyBulkString(cmd.fullName)
	c.ReplyInt(int64(cmd.Arity))
	var flags []string
	for _, f := range flagNames {
		if cmd.Flags&f.f != 0 {
			flags = append(flags, f.name)
		}
	}
	if cmd.Keys != nil {
		flags = append(flags, "movablekeys")
	}
	c.ReplySet(len(flags))
	for _, f := range flags {
		c.ReplySimple(f)
	}
	c.ReplyInt(int64(cmd.First))
	c.ReplyInt(int64(cmd.Last))
	c.ReplyInt(int64(cmd.Step))
	cats := cmd.aclCategories()
	c.ReplySet(len(cats))
	for _, a := range cats {
		c.ReplySimple(a)
	}
	tips := commandTips[cmd.fullName]
	c.ReplySet(len(tips))
	for _, t := range tips {
		c.ReplySimple(t)
	}
	c.replyKeySpecs(cmd)
	c.ReplyArray(len(cmd.Subcommands))
	for _, sub := range cmd.Subcommands {
		c.replyCommandInfo(sub)
	}
}

func cmdCommandDocs(c *Client, args [][]byte) {
	var cmds []*Command
	if len(args) == 2 {
		cmds = c.srv.table.list
	} else {
		for _, a := range args[2:] {
			if cmd := c.commandByName(a); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.ReplyMap(len(cmds))
	for _, cmd := range cmds {
		c.ReplyBulkString(cmd.fullName)
		c.replyCommandDocs(cmd)
	}
}

func (c *Client) replyCommandDocs(cmd *Command) {
	n := 4
	if len(cmd.Subcommands) > 0 {
		n++
	}
	c.ReplyMap(n)
	c.ReplyBulkString("summary")
	c.ReplyBulkString(cmd.Summary)
	c.ReplyBulkString("since")
	c.ReplyBulkString(cmd.Since)
	c.ReplyBulkString("group")
	c.ReplyBulkString(cmd.Group)
	c.ReplyBulkString("complexity")
	c.ReplyBulkString(cmd.Complexity)
	if len(cmd.Subcommands) > 0 {
		c.ReplyBulkString("subcommands")
		c.ReplyMap(len(cmd.Subcommands))
		for _, sub := range cmd.Subcommands {
			c.ReplyBulkString(sub.fullName)
			c.replyCommandDocs(sub)
		}
	}
}

func cmdCommandList(c *Client, args [][]byte) {
	var match []byte
	var module bool
	if len(args) > 2 {
		if len(args) != 5 || !EqualFold(args[2], "filterby") {
			c.ReplyError(ErrSyntax)
			return
		}
		switch {
		case EqualFold(args[3], "pattern"):
			match = args[4]
		case EqualFold(args[3], "module"):
			module = true
		case EqualFold(args[3], "aclcat"):
			cat := "@" + strings.ToLower(string(args[4]))
			var names []string
			c.srv.table.eachCommand(func(cmd *Command) {
				for _, a := range cmd.aclCategories() {
					if a == cat {
						names = append(names, cmd.fullName)
					}
				}
			})
			c.ReplyArray(len(names))
			for _, n := range names {
				c.ReplyBulkString(n)
			}
			return
		default:
			c.ReplyError(ErrSyntax)
			return
		}
	}
	var names []string
	if !module {
		c.srv.table.eachCommand(func(cmd *Command) {
			if match == nil || GlobMatch(match, []byte(cmd.fullName), true) {
				names = append(names, cmd.fullName)
			}
		})
	}
	c.ReplyArray(len(names))
	for _, n := range names {
		c.ReplyBulkString(n)
	}
}

func cmdCommandGetKeys(c *Client, args [][]byte) { commandGetKeys(c, args, false) }

func cmdCommandGetKeysAndFlags(c *Client, args [][]byte) { commandGetKeys(c, args, true) }

func commandGetKeys(c *Client, args [][]byte, withFlags bool) {
	sub := args[2:]
	cmd := c.srv.table.lookup(sub[0])
	if cmd != nil && cmd.subs != nil && len(sub) > 1 {
		cmd = cmd.subs[strings.ToLower(string(sub[1]))]
	}
	if cmd == nil {
		c.ReplyError("ERR Invalid command specified")
		return
	}
	// Redis's order: a command without keys, then the arity, then key
	// positions that the arguments make impossible (a numkeys that is not
	// a number, is 0, or counts more keys than there are).
	if !cmd.hasKeyArgs() {
		c.ReplyError("ERR The command has no key arguments")
		return
	}
	if (cmd.Arity > 0 && cmd.Arity != len(sub)) || len(sub) < -cmd.Arity {
		c.ReplyError("ERR Invalid number of arguments specified for command")
		return
	}
	pos := cmd.keyPositions(sub, nil)
	if len(pos) == 0 {
		c.ReplyError("ERR Invalid arguments specified for command")
		return
	}
	c.ReplyArray(len(pos))
	for k, i := range pos {
		if !withFlags {
			c.ReplyBulk(sub[i])
			continue
		}
		c.ReplyArray(2)
		c.ReplyBulk(sub[i])
		flags := keyFlags(cmd, sub, k)
		c.ReplySet(len(flags))
		for _, f := range flags {
			c.ReplySimple(f)
		}
	}
}

// keyFlags are the key-spec flags COMMAND GETKEYSANDFLAGS reports for the
// k-th key of args: the command's KeySpecs (the last one repeats), or
// flags derived from the command's when it declares none.
func keyFlags(cmd *Command, args [][]byte, k int) []string {
	specs := cmd.keySpecFlags()
	spec := specs[min(k, len(specs)-1)]
	if cmd.fullName == "set" && !hasArg(args[3:], "get") {
		spec = "OW update" // SET's flags vary: without GET it does not read
	}
	return strings.Fields(spec)
}

func hasArg(args [][]byte, word string) bool {
	for _, a := range args {
		if EqualFold(a, word) {
			return true
		}
	}
	return false
}

func cmdLatencyHistogram(c *Client, args [][]byte) {
	var cmds []*Command
	add := func(cmd *Command) {
		if cmd.stats.calls.Load() > 0 {
			cmds = append(cmds, cmd)
		}
	}
	if len(args) == 2 {
		c.srv.table.eachCommand(add)
	} else {
		for _, a := range args[2:] {
			cmd := c.commandByName(a)
			if cmd == nil {
				continue
			}
			add(cmd)
			for _, sub := range cmd.Subcommands {
				add(sub)
			}
		}
	}
	c.ReplyMap(len(cmds))
	for _, cmd := range cmds {
		st := cmd.stats
		c.ReplyBulkString(cmd.fullName)
		c.ReplyMap(2)
		c.ReplyBulkString("calls")
		c.ReplyInt(st.calls.Load())
		c.ReplyBulkString("histogram_usec")
		var pairs [][2]int64
		var cum int64
		for i := range st.hist {
			n := st.hist[i].Load()
			if n == 0 {
				continue
			}
			cum += n
			pairs = append(pairs, [2]int64{(int64(1024)<<i - 1) / 1000, cum})
		}
		c.ReplyMap(len(pairs))
		for _, p := range pairs {
			c.ReplyInt(p[0])
			c.ReplyInt(p[1])
		}
	}
}

func cmdCommandHelp(c *Client, args [][]byte) {
	replyHelp(c, "COMMAND", []string{
		"(no subcommand)", "    Return details about all Redis commands.",
		"COUNT", "    Return the total number of commands in this Redis server.",
		"LIST", "    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
		"DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
		"GETKEYS <full-command>", "    Return the keys from a full Redis command.",
	})
}

// ---- MEMORY, OBJECT ----

func cmdMemoryUsage(c *Client, args [][]byte) {
	for j := 3; j < len(args); j++ {
		if EqualFold(args[j], "samples") && j+1 < len(args) {
			n, ok := c.IntArg(args[j+1])
			if !ok {
				return
			}
			if n < 0 {
				c.ReplyError(ErrSyntax)
				return
			}
			j++
			continue
		}
		c.ReplyError(ErrSyntax)
		return
	}
	e := c.db.Lookup(args[2], c.now, store.NoTouch|store.NoStats)
	if e == nil {
		c.ReplyNull()
		return
	}
	c.ReplyInt(int64(e.Mem()))
}

func cmdMemoryStats(c *Client, args [][]byte) {
	s := c.srv
	used := s.UsedMemory()
	c.ReplyMap(6)
	c.ReplyBulkString("peak.allocated")
	c.ReplyInt(max(s.peakMem.Load(), used))
	c.ReplyBulkString("total.allocated")
	c.ReplyInt(used)
	c.ReplyBulkString("startup.allocated")
	c.ReplyInt(0)
	c.ReplyBulkString("clients.normal")
	c.ReplyInt(s.clientsMemory())
	c.ReplyBulkString("keys.count")
	n := 0
	for i := 0; i < s.ks.DBs(); i++ {
		n += s.ks.DB(i).Size()
	}
	c.ReplyInt(int64(n))
	c.ReplyBulkString("dataset.bytes")
	c.ReplyInt(s.ks.UsedMemory())
}

func cmdMemoryDoctor(c *Client, args [][]byte) {
	c.ReplyVerbatim([]byte("No memory problem found: keys and values take " + humanBytes(c.srv.ks.UsedMemory()) + " of a " + humanBytes(c.srv.ks.MaxMemory()) + " limit (0B means none)."))
}

func cmdMemoryPurge(c *Client, args [][]byte) {
	runtime.GC()
	c.ReplyOK()
}

func cmdMemoryHelp(c *Client, args [][]byte) {
	replyHelp(c, "MEMORY", []string{
		"DOCTOR", "    Return memory problems reports.",
		"MALLOC-STATS", "    Return internal statistics report from the memory allocator.",
		"PURGE", "    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS", "    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]", "    Return memory in bytes used by <key> and its value. Nested values are",
		"", "    sampled up to <count> times (default: 5, 0 means sample all).",
	})
}

func (c *Client) objectEntry(key []byte) *store.Entry {
	e := c.db.Lookup(key, c.now, store.NoTouch|store.NoStats)
	if e == nil {
		c.ReplyNull()
	}
	return e
}

func cmdObjectEncoding(c *Client, args [][]byte) {
	if e := c.objectEntry(args[2]); e != nil {
		c.ReplyBulkString(e.Encoding())
	}
}

func cmdObjectFreq(c *Client, args [][]byte) {
	e := c.objectEntry(args[2])
	if e == nil {
		return
	}
	if !c.srv.ks.Policy().IsLFU() {
		c.ReplyError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	c.ReplyInt(int64(c.srv.ks.Freq(e, c.now)))
}

func cmdObjectIdleTime(c *Client, args [][]byte) {
	e := c.objectEntry(args[2])
	if e == nil {
		return
	}
	if c.srv.ks.Policy().IsLFU() {
		c.ReplyError("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	c.ReplyInt(c.db.IdleMillis(e, c.now) / 1000)
}

func cmdObjectRefCount(c *Client, args [][]byte) {
	if e := c.objectEntry(args[2]); e != nil {
		c.ReplyInt(1)
	}
}

func cmdObjectHelp(c *Client, args [][]byte) {
	replyHelp(c, "OBJECT", []string{
		"ENCODING <key>", "    Return the kind of internal representation used in order to store the value",
		"    associated with a <key>.", "FREQ <key>",
		"    Return the access frequency index of the <key>. The returned integer is", "    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>", "    Return the idle time of the <key>, that is the approximated number of",
		"    seconds elapsed since the last access to the key.", "REFCOUNT <key>",
		"    Return the number of references of the value associated with the specified", "    <key>.",
	})
}

// ---- SLOWLOG, LATENCY ----

func cmdSlowlogGet(c *Client, args [][]byte) {
	count := int64(10)
	if len(args) == 3 {
		n, ok := ParseInt(args[2])
		if !ok || n < -1 {
			c.ReplyError("ERR count should be greater than or equal to -1")
			return
		}
		if n != -1 {
			count = n
		} else {
			count = 1 << 62
		}
	} else if len(args) > 3 {
		c.ReplyWrongArity()
		return
	}
	l := c.srv.slowlog
	l.mu.Lock()
	n := min(int(count), len(l.entries))
	entries := make([]slowEntry, n)
	for i := 0; i < n; i++ {
		entries[i] = l.entries[len(l.entries)-1-i]
	}
	l.mu.Unlock()
	c.ReplyArray(n)
	for _, e := range entries {
		c.ReplyArray(6)
		c.ReplyInt(e.id)
		c.ReplyInt(e.at)
		c.ReplyInt(e.duration)
		c.ReplyArray(len(e.args))
		for _, a := range e.args {
			c.ReplyBulkString(a)
		}
		c.ReplyBulkString(e.addr)
		c.ReplyBulkString(e.name)
	}
}

func cmdSlowlogLen(c *Client, args [][]byte) {
	l := c.srv.slowlog
	l.mu.Lock()
	n := len(l.entries)
	l.mu.Unlock()
	c.ReplyInt(int64(n))
}

func cmdSlowlogReset(c *Client, args [][]byte) {
	l := c.srv.slowlog
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
	c.ReplyOK()
}

func cmdSlowlogHelp(c *Client, args [][]byte) {
	replyHelp(c, "SLOWLOG", []string{
		"GET [<count>]", "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:", "    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name", "LEN",
		"    Return the length of the slowlog.", "RESET",
		"    Reset the slowlog.",
	})
}

func cmdLatencyLatest(c *Client, args [][]byte) {
	m := c.srv.latency
	m.mu.Lock()
	names := make([]string, 0, len(m.events))
	for k := range m.events {
		names = append(names, k)
	}
	sort.Strings(names)
	type row struct {
		name          string
		at, last, max int64
	}
	rows := make([]row, 0, len(names))
	for _, n := range names {
		e := m.events[n]
		last := e.samples[len(e.samples)-1]
		rows = append(rows, row{n, last.at, last.ms, e.max})
	}
	m.mu.Unlock()
	c.ReplyArray(len(rows))
	for _, r := range rows {
		c.ReplyArray(4)
		c.ReplyBulkString(r.name)
		c.ReplyInt(r.at)
		c.ReplyInt(r.last)
		c.ReplyInt(r.max)
	}
}

func cmdLatencyHistory(c *Client, args [][]byte) {
	m := c.srv.latency
	m.mu.Lock()
	var samples []latencySample
	if e := m.events[string(args[2])]; e != nil {
		samples = append(samples, e.samples...)
	}
	m.mu.Unlock()
	c.ReplyArray(len(samples))
	for _, s := range samples {
		c.ReplyArray(2)
		c.ReplyInt(s.at)
		c.ReplyInt(s.ms)
	}
}

func cmdLatencyReset(c *Client, args [][]byte) {
	var events []string
	for _, a := range args[2:] {
		events = append(events, string(a))
	}
	c.ReplyInt(int64(c.srv.latency.reset(events)))
}

func cmdLatencyDoctor(c *Client, args [][]byte) {
	c.ReplyVerbatim([]byte("No latency report: see LATENCY LATEST for the events over latency-monitor-threshold."))
}

func cmdLatencyHelp(c *Client, args [][]byte) {
	replyHelp(c, "LATENCY", []string{
		"DOCTOR", "    Return a human readable latency analysis report.",
		"HISTORY <event>", "    Return time-latency samples for the <event> class.",
		"LATEST", "    Return the latest latency samples for all events.",
		"RESET [<event> ...]", "    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
	})
}

func cmdFunctionFlush(c *Client, args [][]byte) {
	if len(args) > 3 || (len(args) == 3 && !EqualFold(args[2], "async") && !EqualFold(args[2], "sync")) {
		c.ReplyError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		return
	}
	c.ReplyOK()
}

func cmdFunctionList(c *Client, args [][]byte) { c.ReplyArray(0) }

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}
