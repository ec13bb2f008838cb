// Command anvil runs and talks to the Anvil daemons: "anvil up" runs all of
// them in one process for local development, "anvil status" asks each one
// whether it is ready.
package main

import (
	"os"
)

func main() {
	a := &app{stdout: os.Stdout, stderr: os.Stderr, defs: daemons()}
	os.Exit(a.run(os.Args[1:]))
}
