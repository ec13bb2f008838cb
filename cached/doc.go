// Package cached is Anvil's Redis-compatible cache server (ElastiCache's
// role): it speaks RESP2 and RESP3 (after HELLO 3) on one TCP listener,
// default 127.0.0.1:6380, and follows Redis 7 for every command it
// implements — replies, error strings and edge cases — so that Redis
// clients and Redis's own test suite work against it unchanged.
//
// # Design
//
// An epoll event loop (event_loops, default 1, Linux; 0 or elsewhere: a
// goroutine per connection) serves the connections as Redis does: it reads
// what each ready client sent, runs every complete request in it
// (pipelining), and writes each client's replies with one write before it
// waits again; under load it polls for up to 50 µs before it sleeps (see
// reactor_linux.go and README.md, "Connection models"). Commands are entries of a table ([Command]) that
// each family contributes from its own cmd_<family>.go file; the
// dispatcher checks arity, authentication and MULTI state with Redis's
// error texts, locks the shards of the keys the entry declares, and calls
// the handler. The keyspace (package cached/store) is sharded with a lock
// per shard and no global lock. See HACKING.md for how to add a family.
//
// # Configuration
//
// [Config]: Redis's directives with '_' for '-' (maxmemory,
// maxmemory_policy, requirepass, databases, maxclients, timeout, ...),
// plus the shared listen, admin, data_dir, log and shutdown_timeout.
// CONFIG SET changes most of them at runtime; README.md lists which.
//
// # Signals, admin and metrics
//
// SIGTERM/SIGINT stop accepting, finish the commands already read and
// close every connection (see Server.Shutdown). SIGHUP is refused for
// cached's own keys: use CONFIG SET. Metrics are anvil_cached_* on the
// admin listener's /metrics; /readyz checks that the RESP listener serves.
package cached
