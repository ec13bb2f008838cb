// Command cached is Anvil's Redis-compatible cache server; see package
// github.com/anvilstack/anvil/cached.
package main

import (
	"os"

	"github.com/anvilstack/anvil/cached"
)

func main() { os.Exit(cached.Spec().Main(os.Args[1:], os.Stdout, os.Stderr)) }
