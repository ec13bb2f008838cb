package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/anvilstack/anvil/kvd/client"
)

const kvUsage = `anvil kv talks to a kvd cluster (any node serves any key).

Usage:
  anvil kv [--addr ADDR[,ADDR...]] [--timeout D] COMMAND ...

Commands:
  get KEY [--stale]                      print the value (exit 1 if absent)
  put KEY VALUE|- [--ttl D] [--prev-revision N]
                                         write (- reads the value from stdin); prints the revision
  del KEY [--prev-revision N]            delete; prints the revision and whether it existed
  scan [--prefix P] [--start-after K] [--limit N] [--stale]
                                         list keys in order, one JSON object per line
  cluster                                print GET /v1/cluster

--addr defaults to $KVD_ADDR, else 127.0.0.1:7070. A failed compare-and-set
(--prev-revision) exits 1 and prints the current revision on stderr.
`

func (a *app) kv(args []string) int {
	fs := flag.NewFlagSet("anvil kv", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() { fmt.Fprint(a.stderr, kvUsage) }
	def := os.Getenv("KVD_ADDR")
	if def == "" {
		def = "127.0.0.1:7070"
	}
	addr := fs.String("addr", def, "kvd API `addresses`, comma-separated")
	timeout := fs.Duration("timeout", 10*time.Second, "request `timeout`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprint(a.stderr, kvUsage)
		return 2
	}
	c, err := client.New(strings.Split(*addr, ","), client.WithTimeout(*timeout))
	if err != nil {
		fmt.Fprintf(a.stderr, "anvil kv: %v\n", err)
		return 2
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	sub := flag.NewFlagSet("anvil kv "+cmd, flag.ContinueOnError)
	sub.SetOutput(a.stderr)
	stale := sub.Bool("stale", false, "read from any replica (may be behind)")
	prev := sub.String("prev-revision", "", "only if the key is at `revision` N (0: only if absent)")
	ttl := sub.Duration("ttl", 0, "expire the key after `duration`")
	prefix := sub.String("prefix", "", "only keys with this `prefix`")
	after := sub.String("start-after", "", "only keys after `key`")
	limit := sub.Int("limit", 0, "at most `N` keys (default: the server's)")
	pos, err := parseInterleaved(sub, rest)
	if err != nil {
		return 2
	}
	var wopts []client.WriteOption
	if *prev != "" {
		n, err := strconv.ParseUint(*prev, 10, 64)
		if err != nil {
			fmt.Fprintf(a.stderr, "anvil kv: --prev-revision %q is not a revision\n", *prev)
			return 2
		}
		wopts = append(wopts, client.IfRevision(n))
	}
	if *ttl > 0 {
		wopts = append(wopts, client.TTL(*ttl))
	}
	need := func(n int, what string) bool {
		if len(pos) != n {
			fmt.Fprintf(a.stderr, "anvil kv %s: want %s\n", cmd, what)
			return false
		}
		return true
	}
	switch cmd {
	case "get":
		if !need(1, "KEY") {
			return 2
		}
		var gopts []client.GetOption
		if *stale {
			gopts = append(gopts, client.Stale())
		}
		it, err := c.Get(ctx, pos[0], gopts...)
		if err != nil {
			return a.kvErr(err)
		}
		_, _ = a.stdout.Write(it.Value)
		if len(it.Value) == 0 || it.Value[len(it.Value)-1] != '\n' {
			fmt.Fprintln(a.stdout)
		}
		return 0
	case "put":
		if !need(2, "KEY VALUE (or - for stdin)") {
			return 2
		}
		value := []byte(pos[1])
		if pos[1] == "-" {
			if value, err = io.ReadAll(os.Stdin); err != nil {
				fmt.Fprintf(a.stderr, "anvil kv put: %v\n", err)
				return 1
			}
		}
		rev, err := c.Put(ctx, pos[0], value, wopts...)
		if err != nil {
			return a.kvErr(err)
		}
		fmt.Fprintln(a.stdout, rev)
		return 0
	case "del", "delete":
		if !need(1, "KEY") {
			return 2
		}
		rev, deleted, err := c.Delete(ctx, pos[0], wopts...)
		if err != nil {
			return a.kvErr(err)
		}
		fmt.Fprintf(a.stdout, "%d deleted=%v\n", rev, deleted)
		return 0
	case "scan":
		if !need(0, "no arguments") {
			return 2
		}
		items, more, err := c.Scan(ctx, client.ScanOptions{Prefix: *prefix, StartAfter: *after, Limit: *limit, Stale: *stale})
		if err != nil {
			return a.kvErr(err)
		}
		enc := json.NewEncoder(a.stdout)
		for _, it := range items {
			_ = enc.Encode(struct {
				Key      string `json:"key"`
				Value    string `json:"value"`
				Revision uint64 `json:"revision"`
			}{it.Key, string(it.Value), it.Revision})
		}
		if more {
			fmt.Fprintf(a.stderr, "anvil kv scan: more keys follow; continue with --start-after %q\n", items[len(items)-1].Key)
		}
		return 0
	case "cluster":
		raw, err := c.Cluster(ctx)
		if err != nil {
			return a.kvErr(err)
		}
		_, _ = a.stdout.Write(raw)
		return 0
	}
	fmt.Fprintf(a.stderr, "anvil kv: unknown command %q\n\n%s", cmd, kvUsage)
	return 2
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func (a *app) kvErr(err error) int {
	var ce *client.Error
	switch {
	case errors.Is(err, client.ErrNotFound):
		fmt.Fprintln(a.stderr, "anvil kv: key not found")
	case client.IsPreconditionFailed(err) && errors.As(err, &ce):
		fmt.Fprintf(a.stderr, "anvil kv: revision mismatch; current revision %d\n", ce.Revision)
	case client.IsUnknown(err):
		fmt.Fprintf(a.stderr, "anvil kv: outcome unknown (the write may or may not have happened): %v\n", err)
	default:
		fmt.Fprintf(a.stderr, "anvil kv: %v\n", err)
	}
	return 1
}
