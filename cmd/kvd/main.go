// Command kvd runs one node of Anvil's sharded, Raft-replicated key-value
// store (package kvd).
package main

import (
	"os"

	"github.com/anvilstack/anvil/kvd"
)

func main() { os.Exit(kvd.Spec().Main(os.Args[1:], os.Stdout, os.Stderr)) }
