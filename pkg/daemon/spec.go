package daemon

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/anvilstack/anvil/pkg/buildinfo"
	"github.com/anvilstack/anvil/pkg/config"
	"github.com/anvilstack/anvil/pkg/logging"
)

// Spec describes a daemon to the runtime. C is its config type; *C embeds
// Common and implements Config.
type Spec[C any, P interface {
	*C
	Config
}] struct {
	Name     string           // binary and metric name: "cached" serves anvil_cached_* metrics
	Summary  string           // one line for -help
	Defaults func() C         // the built-in defaults
	Flags    []config.Flag[C] // the daemon's own flags, beyond the common ones
	New      func(cfg C, env Env) (Service, error)
}

// Definition is a Spec seen without its config type, so that anvil and the
// deploy tests can hold every daemon in one list.
type Definition interface {
	// DaemonName is the daemon's name.
	DaemonName() string
	// Main runs the daemon binary with command-line args (without the
	// program name) and returns the process exit status.
	Main(args []string, stdout, stderr io.Writer) int
	// Local builds the daemon with its defaults for a local stack (anvil up).
	Local(opts LocalOptions) (*Daemon, error)
	// CheckFile loads and validates a config file and returns every
	// listen address it configures.
	CheckFile(path string) (addrs []string, err error)
	// DefaultCommon is the shared part of the built-in defaults.
	DefaultCommon() Common
}

// LocalOptions adapt the defaults for anvil up and for tests.
type LocalOptions struct {
	DataDir     string       // data goes to DataDir/<name>
	PortOffset  int          // added to every default port
	RandomPorts bool         // every listener on port 0
	Log         *slog.Logger // the base logger; nil discards
}

// DaemonName implements Definition.
func (s *Spec[C, P]) DaemonName() string { return s.Name }

// DefaultCommon implements Definition.
func (s *Spec[C, P]) DefaultCommon() Common {
	c := s.Defaults()
	return *P(&c).CommonConfig()
}

// Load builds the effective config: defaults, then the file at path (if
// any), then the flags in ov (if any), then validation of the whole.
func (s *Spec[C, P]) Load(path string, ov *config.Overrides[C]) (C, error) {
	cfg := s.Defaults()
	if path != "" {
		if err := config.Load(path, &cfg); err != nil {
			return cfg, err
		}
	}
	if ov != nil {
		if err := ov.Apply(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, s.Validate(&cfg)
}

// Validate checks the shared and the daemon's own keys and reports every
// problem at once.
func (s *Spec[C, P]) Validate(cfg *C) error {
	var ps config.Problems
	ps.Merge("", P(cfg).CommonConfig().validate())
	ps.Merge("", P(cfg).Validate())
	return ps.Err()
}

// CheckFile implements Definition.
func (s *Spec[C, P]) CheckFile(path string) ([]string, error) {
	cfg, err := s.Load(path, nil)
	if err != nil {
		return nil, err
	}
	var addrs []string
	for _, a := range P(&cfg).ListenAddrs() {
		addrs = append(addrs, *a)
	}
	return addrs, nil
}

// commonFlags are the flags every daemon takes (CONTRACT.md, "Every daemon").
func commonFlags[C any, P interface {
	*C
	Config
}]() []config.Flag[C] {
	common := func(c *C) *Common { return P(c).CommonConfig() }
	return []config.Flag[C]{
		config.String("listen", "main service `address` (host:port; port 0 picks a free one)", func(c *C) *string { return &common(c).Listen }),
		config.String("admin", "admin HTTP `address` (metrics, health, management API)", func(c *C) *string { return &common(c).Admin.Listen }),
		config.String("data-dir", "`directory` for stored data", func(c *C) *string { return &common(c).DataDir }),
		config.String("log-level", "log `level`: debug, info, warn, error", func(c *C) *string { return &common(c).Log.Level }),
		config.String("log-format", "log `format`: text or json", func(c *C) *string { return &common(c).Log.Format }),
	}
}

// Main is the whole of a daemon's main function: it parses args, handles
// -version and -check-config, loads the config, builds the daemon and runs
// it until a stop signal. It returns 0 after a clean stop, 1 when the daemon
// fails or does not drain in time, and 2 for a usage or config error.
func (s *Spec[C, P]) Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(s.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s: %s\n\nUsage: %s [flags]\n\nFlags:\n", s.Name, s.Summary, s.Name)
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "YAML config `file` (flags override it)")
	checkOnly := fs.Bool("check-config", false, "validate the config and exit")
	version := fs.Bool("version", false, "print version information and exit")
	var ov config.Overrides[C]
	ov.Register(fs, commonFlags[C, P]()...)
	ov.Register(fs, s.Flags...)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", s.Name, fs.Arg(0))
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, buildinfo.Read().String(s.Name))
		return 0
	}
	cfg, err := s.Load(*configPath, &ov)
	if err != nil {
		fmt.Fprintf(stderr, "%s: invalid config: %v\n", s.Name, err)
		return 2
	}
	if *checkOnly {
		fmt.Fprintf(stdout, "%s: config OK\n", s.Name)
		return 0
	}
	log, level, err := logging.New(stderr, P(&cfg).CommonConfig().Log)
	if err != nil { // unreachable after Validate, kept for safety
		fmt.Fprintf(stderr, "%s: %v\n", s.Name, err)
		return 2
	}
	d, err := s.Build(cfg, log, level, func() (C, error) { return s.Load(*configPath, &ov) })
	if err != nil {
		log.Error("cannot build daemon", "err", err)
		return 1
	}
	r := Runner{Daemons: []*Daemon{d}, Log: log}
	if err := r.Run(context.Background()); err != nil {
		log.Error("exit", "err", err)
		return 1
	}
	return 0
}

// Local implements Definition.
func (s *Spec[C, P]) Local(opts LocalOptions) (*Daemon, error) {
	cfg := s.Defaults()
	p := P(&cfg)
	if opts.DataDir != "" {
		p.CommonConfig().DataDir = filepath.Join(opts.DataDir, s.Name)
	}
	for _, addr := range p.ListenAddrs() {
		var err error
		switch {
		case opts.RandomPorts:
			*addr, err = WithPort(*addr, 0)
		case opts.PortOffset != 0:
			*addr, err = ShiftPort(*addr, opts.PortOffset)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	if err := s.Validate(&cfg); err != nil {
		return nil, fmt.Errorf("%s: invalid config: %w", s.Name, err)
	}
	log := opts.Log
	if log == nil {
		log = logging.Discard()
	}
	var level slog.LevelVar // the shared handler decides; kept for Reload
	return s.Build(cfg, log.With("daemon", s.Name), &level, nil)
}
