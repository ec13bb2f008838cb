// Package daemon is the runtime every Anvil daemon shares: configuration
// (defaults, a strict YAML file, command-line flags, validation), logging,
// a Prometheus registry, the admin server, start-up, reload and shutdown.
//
// A daemon package provides a Spec: its name, DefaultConfig, extra flags and
// a constructor returning a Service. Service.Start returns once every
// listener is bound; Service.Shutdown drains within its context's deadline.
// A Service that can apply a new config in place implements Reloader.
// Everything else is here, the same for every daemon:
//
//   - Spec.Main is the whole of a daemon's main: flags, -version,
//     -check-config, config, logger, registry, then Runner.Run.
//   - Daemon wraps a started Service with its admin server and reload logic;
//     anvil up runs several Daemons in one process with one Runner.
//   - Runner.Run owns signals (SIGTERM/SIGINT stop, SIGHUP reloads, a second
//     stop signal forces), systemd notification (READY=1 once every listener
//     is bound, RELOADING=1, STOPPING=1) and the exit status.
//
// Services never call os.Exit or signal.Notify, and hold no package state, so
// that two instances of a daemon can run in one test process.
package daemon
