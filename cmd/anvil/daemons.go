package main

import (
	"github.com/anvilstack/anvil/cached"
	"github.com/anvilstack/anvil/kvd"
	"github.com/anvilstack/anvil/pkg/daemon"
)

// daemons lists every daemon anvil knows, in start order. Adding a daemon
// to the local stack is one line here.
func daemons() []daemon.Definition {
	return []daemon.Definition{
		cached.Spec(),
		kvd.Spec(),
	}
}
