package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/daemon"
	"github.com/anvilstack/anvil/pkg/daemontest"
)

// testApp is anvil with two echo daemons and injected signals.
func testApp(defs ...daemon.Definition) (*app, *daemontest.Buffer, *daemontest.Buffer, chan os.Signal) {
	out, errb := &daemontest.Buffer{}, &daemontest.Buffer{}
	sigs := make(chan os.Signal, 2)
	return &app{stdout: out, stderr: errb, defs: defs, signals: sigs}, out, errb, sigs
}

func waitFor(t *testing.T, b *daemontest.Buffer, re *regexp.Regexp, exited <-chan int) []string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m
		}
		select {
		case code := <-exited:
			t.Fatalf("anvil exited %d before printing %v; output:\n%s", code, re, b.String())
		case <-deadline:
			t.Fatalf("no %v in output:\n%s", re, b.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// echoAt is the echo daemon with the given default addresses.
func echoAt(name, listen, adminListen string) daemon.Definition {
	spec := daemontest.Echo(name, 18990)
	defaults := spec.Defaults
	spec.Defaults = func() daemontest.EchoConfig {
		c := defaults()
		c.Listen, c.Admin.Listen = listen, adminListen
		return c
	}
	return spec
}

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func get(client *http.Client, url string) (int, string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// anvil up starts every daemon, prints endpoints that answer and the
// environment for apps, stops on SIGINT with status 0, and leaves no
// goroutine behind.
func TestUpStartsAndStopsCleanly(t *testing.T) {
	before := runtime.NumGoroutine()
	a, out, errb, sigs := testApp(daemontest.Echo("alpha", 18998), daemontest.Echo("beta", 18996))
	exited := make(chan int, 1)
	go func() { exited <- a.run([]string{"up", "--random-ports", "--data-dir", t.TempDir()}) }()

	// The summary is printed in several writes: wait for its last line
	// (the apps' environment) before reading it.
	waitFor(t, out, regexp.MustCompile(`(?s)2 daemons ready.*For your app:\n.*\n\n`), exited)
	text := out.String()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, name := range []string{"alpha", "beta"} {
		m := regexp.MustCompile(name + `\s+http\s+(http://\S+)`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no http endpoint for %s in:\n%s", name, text)
		}
		if code, body, err := get(client, m[1]+"/hello"); err != nil || code != 200 || body != "hello" {
			t.Fatalf("%s /hello: %d %q %v", name, code, body, err)
		}
		m = regexp.MustCompile(name + `\s+admin\s+(http://\S+)`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no admin endpoint for %s in:\n%s", name, text)
		}
		if code, _, err := get(client, m[1]+"/readyz"); err != nil || code != 200 {
			t.Fatalf("%s /readyz: %d %v", name, code, err)
		}
	}
	if !regexp.MustCompile(`export ECHO_URL=http://127\.0\.0\.1:\d+`).MatchString(text) {
		t.Fatalf("no environment for apps in:\n%s", text)
	}

	sigs <- syscall.SIGINT
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("exit %d after SIGINT, want 0; stderr:\n%s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("anvil up did not stop after SIGINT")
	}
	if !strings.Contains(out.String(), "anvil: stopped") {
		t.Fatalf("no stop message:\n%s", out.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			var stacks bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
			t.Fatalf("goroutines: %d before, %d after anvil up stopped:\n%s", before, runtime.NumGoroutine(), stacks.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// anvil up prints its endpoints only once every daemon's readiness checks
// pass, so that what it prints answers at once.
func TestUpWaitsForReadiness(t *testing.T) {
	spec := daemontest.Echo("slow", 18994)
	defaults := spec.Defaults
	spec.Defaults = func() daemontest.EchoConfig {
		c := defaults()
		c.Warmup = 500 * time.Millisecond
		return c
	}
	a, out, errb, sigs := testApp(spec)
	exited := make(chan int, 1)
	start := time.Now()
	go func() { exited <- a.run([]string{"up", "--random-ports", "--data-dir", t.TempDir()}) }()
	m := waitFor(t, out, regexp.MustCompile(`slow\s+admin\s+(http://\S+)`), exited)
	if waited := time.Since(start); waited < 500*time.Millisecond {
		t.Fatalf("endpoints printed after %v, before the 500ms warm-up ended", waited)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if code, body, err := get(client, m[1]+"/readyz?verbose"); err != nil || code != 200 {
		t.Fatalf("/readyz right after the endpoints were printed: %d %q %v", code, body, err)
	}
	sigs <- syscall.SIGINT
	if code := <-exited; code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errb.String())
	}
}

// A port already in use is a one-line error naming the daemon and port.
func TestUpPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	// Only the service port is taken; the admin port is a free one.
	a, _, errb, _ := testApp(echoAt("alpha", ln.Addr().String(), "127.0.0.1:0"))
	code := a.run([]string{"up", "--data-dir", t.TempDir(), "--log-level", "error"})
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	msg := strings.TrimSpace(errb.String())
	if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "anvil up: alpha: ") ||
		!strings.Contains(msg, "127.0.0.1:"+strconv.Itoa(port)) || !strings.Contains(msg, "address already in use") {
		t.Fatalf("error is not one line naming the daemon and port:\n%s", msg)
	}
}

func TestStatus(t *testing.T) {
	port := freePort(t)
	def := echoAt("alpha", "127.0.0.1:0", "127.0.0.1:"+strconv.Itoa(port))
	a, out, _, _ := testApp(def)
	if code := a.run([]string{"status"}); code != 1 {
		t.Fatalf("status with nothing running: exit %d, want 1", code)
	}
	if !regexp.MustCompile(`alpha\s+127\.0\.0\.1:` + strconv.Itoa(port) + `\s+not running`).MatchString(out.String()) {
		t.Fatalf("status output:\n%s", out.String())
	}

	up, upOut, _, sigs := testApp(def)
	exited := make(chan int, 1)
	go func() { exited <- up.run([]string{"up", "--data-dir", t.TempDir(), "--log-level", "error"}) }()
	waitFor(t, upOut, regexp.MustCompile(`ready`), exited)
	a, out, _, _ = testApp(def)
	if code := a.run([]string{"status"}); code != 0 {
		t.Fatalf("status with the stack up: exit %d, output:\n%s", code, out.String())
	}
	if !regexp.MustCompile(`alpha\s+127\.0\.0\.1:\d+\s+ready`).MatchString(out.String()) {
		t.Fatalf("status output:\n%s", out.String())
	}
	sigs <- syscall.SIGTERM
	if code := <-exited; code != 0 {
		t.Fatalf("up exit %d", code)
	}
}

func TestUsageErrors(t *testing.T) {
	a, _, errb, _ := testApp(daemontest.Echo("alpha", 18998))
	if code := a.run([]string{"frobnicate"}); code != 2 || !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %d %q", code, errb.String())
	}
	a, _, errb, _ = testApp(daemontest.Echo("alpha", 18998))
	if code := a.run([]string{"up", "--only", "gamma"}); code != 2 || !strings.Contains(errb.String(), `unknown daemon "gamma" (known: alpha)`) {
		t.Fatalf("unknown daemon: %d %q", code, errb.String())
	}
}

// The real stack: every registered daemon starts in one process, answers on
// the endpoints printed, and stops on SIGINT without leaving a goroutine.
func TestUpRealDaemonsNoLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("starts every daemon")
	}
	before := runtime.NumGoroutine()
	a, out, errb, sigs := testApp(daemons()...)
	exited := make(chan int, 1)
	go func() {
		exited <- a.run([]string{"up", "--random-ports", "--data-dir", t.TempDir(), "--log-level", "warn"})
	}()
	waitFor(t, out, regexp.MustCompile(`daemons ready`), exited)
	text := out.String()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, def := range daemons() {
		name := def.DaemonName()
		m := regexp.MustCompile(name + `\s+admin\s+(http://\S+)`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no admin endpoint for %s in:\n%s", name, text)
		}
		if code, body, err := get(client, m[1]+"/readyz?verbose"); err != nil || code != 200 {
			t.Fatalf("%s /readyz after anvil up printed its endpoints: %d %q %v", name, code, body, err)
		}
	}
	// The app-facing endpoints answer their protocols.
	if m := regexp.MustCompile(`export REDIS_URL=redis://(\S+)`).FindStringSubmatch(text); m == nil {
		t.Fatalf("no REDIS_URL in:\n%s", text)
	} else if reply := redisPing(t, m[1]); reply != "+PONG\r\n" {
		t.Fatalf("PING to cached: %q", reply)
	}
	if m := regexp.MustCompile(`export KVD_ADDR=(\S+)`).FindStringSubmatch(text); m == nil {
		t.Fatalf("no KVD_ADDR in:\n%s", text)
	} else if code, _, err := get(client, "http://"+m[1]+"/v1/kv/missing"); err != nil || code != 404 {
		t.Fatalf("GET of a missing key from kvd: %d %v", code, err)
	}

	sigs <- syscall.SIGINT
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("exit %d after SIGINT, want 0; stderr:\n%s", code, errb.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("anvil up did not stop after SIGINT")
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			var stacks bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
			t.Fatalf("goroutines: %d before, %d after anvil up stopped:\n%s", before, runtime.NumGoroutine(), stacks.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func redisPing(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	return string(buf[:n])
}
