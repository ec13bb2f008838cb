// Package logging builds the log/slog loggers every Anvil daemon uses: one
// event per line on stderr, as text or JSON, at a level that can change at
// run time (on reload) through a LevelVar.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/anvilstack/anvil/pkg/config"
)

// Config is the "log" section of every daemon's config file.
type Config struct {
	Level  string `yaml:"level"`  // debug, info, warn or error
	Format string `yaml:"format"` // text or json
}

// DefaultConfig logs at info as text.
func DefaultConfig() Config { return Config{Level: "info", Format: "text"} }

// Validate reports every problem with c as config.Problems.
func (c Config) Validate() error {
	var ps config.Problems
	if _, err := ParseLevel(c.Level); err != nil {
		ps.Add("level", "%v", err)
	}
	if c.Format != "text" && c.Format != "json" {
		ps.Add("format", "unknown log format %q (want text or json)", c.Format)
	}
	return ps.Err()
}

// ParseLevel parses debug, info, warn (or warning) and error, in any case.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", s)
}

// New returns a logger writing to w in c's format, and the LevelVar that
// controls its level.
func New(w io.Writer, c Config) (*slog.Logger, *slog.LevelVar, error) {
	lvl, err := ParseLevel(c.Level)
	if err != nil {
		return nil, nil, err
	}
	var level slog.LevelVar
	level.Set(lvl)
	opts := &slog.HandlerOptions{Level: &level}
	var h slog.Handler
	switch c.Format {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, nil, fmt.Errorf("unknown log format %q (want text or json)", c.Format)
	}
	return slog.New(h), &level, nil
}

// Discard is a logger that drops everything, for tests and tools.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
