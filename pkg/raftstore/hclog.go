package raftstore

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// Logger returns an hclog.Logger (what raft and its transports log to) that
// writes to log. Raft narrates every election and heartbeat it misses, so its
// levels are lowered one step (info becomes debug, warn becomes info, error
// becomes warn): a daemon at info level stays quiet while the cluster is
// healthy and still says when it is not.
func Logger(log *slog.Logger) hclog.Logger { return &hcLogger{log: log} }

type hcLogger struct {
	log   *slog.Logger
	name  string
	args  []any
	level hclog.Level
}

func (l *hcLogger) slogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace, hclog.Debug, hclog.Info, hclog.NoLevel, hclog.DefaultLevel:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelInfo
	default:
		return slog.LevelWarn
	}
}

// Log implements hclog.Logger.
func (l *hcLogger) Log(level hclog.Level, msg string, args ...any) {
	lvl := l.slogLevel(level)
	if strings.HasPrefix(msg, "heartbeat timeout reached") {
		lvl = slog.LevelDebug // every group of a starting node says it
	}
	ctx := context.Background()
	if !l.log.Enabled(ctx, lvl) {
		return
	}
	attrs := make([]any, 0, len(l.args)+len(args)+2)
	if l.name != "" {
		attrs = append(attrs, "component", l.name)
	}
	attrs = append(attrs, fixArgs(l.args)...)
	attrs = append(attrs, fixArgs(args)...)
	l.log.Log(ctx, lvl, msg, attrs...)
}

// fixArgs renames hclog's "error" key to the house's "err" and keys with
// dashes to snake_case.
func fixArgs(args []any) []any {
	out := make([]any, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		k := fmt.Sprint(args[i])
		if k == "error" {
			k = "err"
		}
		out = append(out, strings.ReplaceAll(k, "-", "_"), args[i+1])
	}
	return out
}

// Trace implements hclog.Logger.
func (l *hcLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }

// Debug implements hclog.Logger.
func (l *hcLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }

// Info implements hclog.Logger.
func (l *hcLogger) Info(msg string, args ...any) { l.Log(hclog.Info, msg, args...) }

// Warn implements hclog.Logger.
func (l *hcLogger) Warn(msg string, args ...any) { l.Log(hclog.Warn, msg, args...) }

// Error implements hclog.Logger.
func (l *hcLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l *hcLogger) enabled(level hclog.Level) bool {
	return l.log.Enabled(context.Background(), l.slogLevel(level))
}

// IsTrace implements hclog.Logger.
func (l *hcLogger) IsTrace() bool { return l.enabled(hclog.Trace) }

// IsDebug implements hclog.Logger.
func (l *hcLogger) IsDebug() bool { return l.enabled(hclog.Debug) }

// IsInfo implements hclog.Logger.
func (l *hcLogger) IsInfo() bool { return l.enabled(hclog.Info) }

// IsWarn implements hclog.Logger.
func (l *hcLogger) IsWarn() bool { return l.enabled(hclog.Warn) }

// IsError implements hclog.Logger.
func (l *hcLogger) IsError() bool { return l.enabled(hclog.Error) }

// ImpliedArgs implements hclog.Logger.
func (l *hcLogger) ImpliedArgs() []any { return l.args }

// With implements hclog.Logger.
func (l *hcLogger) With(args ...any) hclog.Logger {
	c := *l
	c.args = append(append([]any(nil), l.args...), args...)
	return &c
}

// Name implements hclog.Logger.
func (l *hcLogger) Name() string { return l.name }

// Named implements hclog.Logger.
func (l *hcLogger) Named(name string) hclog.Logger {
	c := *l
	if c.name != "" {
		name = c.name + "." + name
	}
	c.name = name
	return &c
}

// ResetNamed implements hclog.Logger.
func (l *hcLogger) ResetNamed(name string) hclog.Logger {
	c := *l
	c.name = name
	return &c
}

// SetLevel implements hclog.Logger; the slog handler decides, so it only
// records the level.
func (l *hcLogger) SetLevel(level hclog.Level) { l.level = level }

// GetLevel implements hclog.Logger.
func (l *hcLogger) GetLevel() hclog.Level { return l.level }

// StandardLogger implements hclog.Logger.
func (l *hcLogger) StandardLogger(*hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(nil), "", 0)
}

// StandardWriter implements hclog.Logger.
func (l *hcLogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		l.Debug(strings.TrimSpace(string(p)))
		return len(p), nil
	})
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
