package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/anvilstack/anvil/pkg/buildinfo"
	"github.com/anvilstack/anvil/pkg/daemon"
)

// app is the anvil command with its outputs and daemon list injected, so
// that tests run it in-process.
type app struct {
	stdout, stderr io.Writer
	defs           []daemon.Definition
	signals        <-chan os.Signal // nil: the process's signals
}

const usage = `anvil runs the Anvil daemons and talks to them.

Usage:
  anvil up [flags]        run every daemon in this process (Ctrl-C stops)
  anvil status [flags]    ask each daemon's admin /readyz whether it is ready
  anvil cluster up|down   run a multi-node cluster on loopback, one process per node
  anvil kv COMMAND        get, put, del, scan keys of kvd; show its cluster
  anvil version           print the version
  anvil help              this text

Run "anvil <command> -h" for a command's flags.
`

func (a *app) run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, usage)
		return 2
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "up":
		return a.up(rest)
	case "status":
		return a.status(rest)
	case "cluster":
		return a.cluster(rest)
	case "kv":
		return a.kv(rest)
	case "version", "-version", "--version":
		fmt.Fprintln(a.stdout, buildinfo.Read().String("anvil"))
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(a.stdout, usage)
		return 0
	default:
		fmt.Fprintf(a.stderr, "anvil: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// selectDefs returns the definitions named in only ("" = all).
func (a *app) selectDefs(only string) ([]daemon.Definition, error) {
	if only == "" {
		return a.defs, nil
	}
	var out []daemon.Definition
	for _, name := range strings.Split(only, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, d := range a.defs {
			if d.DaemonName() == name {
				out = append(out, d)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown daemon %q (known: %s)", name, strings.Join(a.names(), ", "))
		}
	}
	return out, nil
}

func (a *app) names() []string {
	var ns []string
	for _, d := range a.defs {
		ns = append(ns, d.DaemonName())
	}
	return ns
}
