package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/anvilstack/anvil/pkg/daemon"
)

// status asks each daemon's admin /readyz whether it is ready. It exits 0
// only when every daemon asked is ready.
func (a *app) status(args []string) int {
	fs := flag.NewFlagSet("anvil status", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	offset := fs.Int("port-offset", 0, "the `N` given to anvil up --port-offset")
	only := fs.String("only", "", "comma-separated `daemons` to ask (default: all)")
	token := fs.String("token", "", "admin bearer `token`, if the daemons require one")
	timeout := fs.Duration("timeout", 3*time.Second, "per-daemon `timeout`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	defs, err := a.selectDefs(*only)
	if err != nil {
		fmt.Fprintf(a.stderr, "anvil status: %v\n", err)
		return 2
	}
	client := &http.Client{Timeout: *timeout}
	defer client.CloseIdleConnections()
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DAEMON\tADMIN\tSTATUS")
	code := 0
	for _, def := range defs {
		addr, err := daemon.ShiftPort(def.DefaultCommon().Admin.Listen, *offset)
		if err != nil {
			fmt.Fprintf(a.stderr, "anvil status: %s: %v\n", def.DaemonName(), err)
			return 2
		}
		state := readyState(client, addr, *token)
		if state != "ready" {
			code = 1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", def.DaemonName(), addr, state)
	}
	tw.Flush()
	return code
}

func readyState(client *http.Client, addr, token string) string {
	req, err := http.NewRequest("GET", "http://"+addr+"/readyz?verbose", nil)
	if err != nil {
		return "error: " + err.Error()
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "not running (" + shortNetErr(err) + ")"
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusOK {
		return "ready"
	}
	var failed []string
	for _, l := range strings.Split(string(body), "\n") {
		if f, ok := strings.CutPrefix(l, "[-]"); ok {
			failed = append(failed, f)
		}
	}
	return fmt.Sprintf("not ready (%s): %s", resp.Status, strings.Join(failed, "; "))
}

func shortNetErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}
