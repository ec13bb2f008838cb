package daemon_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/daemon"
	"github.com/anvilstack/anvil/pkg/daemontest"
)

// TestMain lets the test binary act as the echo daemon's main, so that
// tests can run it as a real process and send it real signals.
func TestMain(m *testing.M) {
	if os.Getenv("ANVIL_ECHO_DAEMON") == "1" {
		os.Exit(daemontest.Echo("echo", 18999).Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

var _ daemon.Definition = daemontest.Echo("echo", 18999)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runner starts d under a Runner with injected signals.
func runner(t *testing.T, ds ...*daemon.Daemon) (chan<- os.Signal, <-chan error) {
	t.Helper()
	sigs := make(chan os.Signal, 4)
	ready := make(chan struct{})
	errc := make(chan error, 1)
	r := &daemon.Runner{Daemons: ds, Signals: sigs, OnReady: func() { close(ready) }, Log: daemontest.Logger(t)}
	go func() { errc <- r.Run(context.Background()) }()
	select {
	case <-ready:
	case err := <-errc:
		t.Fatalf("runner stopped before ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("runner not ready after 10s")
	}
	return sigs, errc
}

func waitErr(t *testing.T, errc <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(within):
		t.Fatalf("not stopped within %v", within)
		return nil
	}
}

func TestStartServeStop(t *testing.T) {
	spec := daemontest.Echo("echo", 18999)
	d := daemontest.Start(t, spec, daemontest.Config(t, spec))
	code, body := httpGet(t, "http://"+d.Endpoint("http")+"/hello")
	if code != 200 || body != "hello" {
		t.Fatalf("/hello: %d %q", code, body)
	}
	code, body = httpGet(t, "http://"+d.Endpoint("admin")+"/v1/greeting")
	if code != 200 || body != "hello" {
		t.Fatalf("admin /v1/greeting: %d %q", code, body)
	}
	code, body = httpGet(t, "http://"+d.Endpoint("admin")+"/metrics")
	if code != 200 || !strings.Contains(body, `anvil_echo_build_info{`) || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_cpu_seconds_total") {
		t.Fatalf("/metrics lacks build info, Go or process metrics: %d\n%s", code, body)
	}
}

// An in-flight request that began before SIGTERM completes, new
// connections are refused, readiness goes false, and Run returns nil.
func TestGracefulShutdownInProcess(t *testing.T) {
	spec := daemontest.Echo("echo", 18999)
	d, err := spec.Local(daemon.LocalOptions{RandomPorts: true, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	sigs, errc := runner(t, d)
	addr := d.Endpoint("http")

	resp, err := http.Get("http://" + addr + "/slow?d=700ms")
	if err != nil {
		t.Fatal(err)
	}
	sigs <- syscall.SIGTERM
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "done" {
		t.Fatalf("in-flight request cut off: %q, %v", b, err)
	}
	if err := waitErr(t, errc, 10*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("service still accepts connections after shutdown")
	}
}

// A second stop signal cuts a drain short; Run reports the unfinished drain.
func TestSecondSignalForces(t *testing.T) {
	spec := daemontest.Echo("echo", 18999)
	d, err := spec.Local(daemon.LocalOptions{RandomPorts: true, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	sigs, errc := runner(t, d)
	resp, err := http.Get("http://" + d.Endpoint("http") + "/slow?d=1m")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sigs <- syscall.SIGINT
	time.Sleep(100 * time.Millisecond) // let the drain begin; the second signal must find it
	sigs <- syscall.SIGINT
	err = waitErr(t, errc, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("Run after a forced stop = %v, want the cut-off drain reported", err)
	}
}

// A service that fails while running stops every daemon; Run reports it.
func TestServiceFailureStopsAll(t *testing.T) {
	a, err := daemontest.Echo("alpha", 18999).Local(daemon.LocalOptions{RandomPorts: true, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := daemontest.Echo("beta", 18997).Local(daemon.LocalOptions{RandomPorts: true, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	_, errc := runner(t, a, b)
	httpGet(t, "http://"+a.Endpoint("http")+"/fail")
	err = waitErr(t, errc, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "alpha: failure requested over /fail") {
		t.Fatalf("Run = %v, want alpha's failure", err)
	}
	if c, err := net.DialTimeout("tcp", b.Endpoint("http"), time.Second); err == nil {
		c.Close()
		t.Fatal("beta still serving after alpha failed")
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "echo.yaml")
	writeFile(t, cfgPath, "listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0}\ngreeting: one\n")
	spec := daemontest.Echo("echo", 18999)
	load := func() (daemontest.EchoConfig, error) { return spec.Load(cfgPath, nil) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = dir
	load2 := func() (daemontest.EchoConfig, error) {
		c, err := load()
		c.DataDir = dir
		return c, err
	}
	d, err := spec.Build(cfg, daemontest.Logger(t), new(slog.LevelVar), load2)
	if err != nil {
		t.Fatal(err)
	}
	sigs, errc := runner(t, d)
	hello := "http://" + d.Endpoint("http") + "/hello"
	reloadOK := func() float64 {
		return gaugeValue(t, d, "anvil_echo_config_last_reload_successful")
	}
	// reload is synchronous with the signal only through the runner loop:
	// poll for its effect.
	expect := func(want string, ok float64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, body := httpGet(t, hello)
			if body == want && reloadOK() == ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("greeting %q reload_successful %v, want %q %v", body, reloadOK(), want, ok)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	expect("one", 1)

	writeFile(t, cfgPath, "listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0}\ngreeting: two\n")
	sigs <- syscall.SIGHUP
	expect("two", 1)

	// A file that does not parse keeps the running config.
	writeFile(t, cfgPath, "listen: 127.0.0.1:0\ngreting: three\n")
	sigs <- syscall.SIGHUP
	expect("two", 0)

	// A file that is valid but changes what cannot change is refused whole:
	// the greeting in it is not applied either.
	writeFile(t, cfgPath, "listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0}\ngreeting: four\nworkers: 2\n")
	sigs <- syscall.SIGHUP
	expect("two", 0)
	writeFile(t, cfgPath, "listen: 127.0.0.1:1\nadmin: {listen: 127.0.0.1:0}\ngreeting: four\n")
	sigs <- syscall.SIGHUP
	expect("two", 0)

	// And a good file afterwards applies.
	writeFile(t, cfgPath, "listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0}\ngreeting: five\n")
	sigs <- syscall.SIGHUP
	expect("five", 1)

	sigs <- syscall.SIGTERM
	if err := waitErr(t, errc, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestStartFailsWhenPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	spec := daemontest.Echo("echo", 18999)
	cfg := daemontest.Config(t, spec)
	cfg.Listen = ln.Addr().String()
	d, err := spec.Build(cfg, daemontest.Logger(t), new(slog.LevelVar), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = d.Start(context.Background())
	if err == nil || !daemon.IsAddrInUse(err) || !strings.Contains(err.Error(), "echo") || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("Start on a used port = %v, want an address-in-use error naming the daemon and address", err)
	}
	// Nothing stays running: the admin port is free again.
	if d.AdminAddr() != nil {
		if c, err := net.DialTimeout("tcp", d.AdminAddr().String(), time.Second); err == nil {
			c.Close()
			t.Fatal("admin listener left open after a failed start")
		}
	}
}

// process runs the echo daemon as a real process.
type process struct {
	cmd    *exec.Cmd
	stderr *daemontest.Buffer
	lines  chan string
}

func startProcess(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "ANVIL_ECHO_DAEMON=1"), env...)
	p := &process{cmd: cmd, stderr: &daemontest.Buffer{}, lines: make(chan string, 100)}
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(pw, p.stderr)
	cmd.Stdout = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		pw.Close()
	})
	return p
}

// waitLine returns the first stderr line matching re.
func (p *process) waitLine(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case l := <-p.lines:
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-timeout:
			t.Fatalf("no line matching %v; output:\n%s", re, p.stderr.String())
		}
	}
}

func (p *process) wait(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(15 * time.Second):
		t.Fatalf("process did not exit; output:\n%s", p.stderr.String())
		return -1
	}
}

var startedRE = regexp.MustCompile(`msg=started http=(\S+) admin=(\S+)`)

// A real SIGTERM to a real process: the in-flight request completes and
// the process exits 0. systemd hears READY=1 only after the listeners are
// bound, and STOPPING=1 when the signal arrives.
func TestGracefulShutdownProcess(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify.sock")
	notes, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notes.Close()
	p := startProcess(t, []string{"NOTIFY_SOCKET=" + sock}, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-data-dir", dir, "-greeting", "from-flag")
	m := p.waitLine(t, startedRE)
	httpAddr, adminAddr := m[1], m[2]

	readNote := func() string {
		t.Helper()
		buf := make([]byte, 512)
		_ = notes.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := notes.Read(buf)
		if err != nil {
			t.Fatalf("no systemd notification: %v", err)
		}
		return string(buf[:n])
	}
	if n := readNote(); n != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", n)
	}
	// READY=1 was sent after Start returned, so both listeners answer now.
	if code, body := httpGet(t, "http://"+httpAddr+"/hello"); code != 200 || body != "from-flag" {
		t.Fatalf("/hello: %d %q", code, body)
	}
	daemontest.WaitReady(t, adminAddr, "", 5*time.Second)

	resp, err := http.Get("http://" + httpAddr + "/slow?d=700ms")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if n := readNote(); n != "STOPPING=1" {
		t.Fatalf("notification after SIGTERM %q, want STOPPING=1", n)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "done" {
		t.Fatalf("in-flight request cut off by SIGTERM: %q, %v", b, err)
	}
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0; output:\n%s", code, p.stderr.String())
	}
}

// SIGHUP to a real process re-reads its file; flags still win over it.
func TestReloadProcess(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "echo.yaml")
	writeFile(t, cfgPath, "greeting: one\nlog: {level: info}\n")
	p := startProcess(t, nil, "-config", cfgPath, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-data-dir", dir)
	m := p.waitLine(t, startedRE)
	hello := "http://" + m[1] + "/hello"
	if _, body := httpGet(t, hello); body != "one" {
		t.Fatalf("greeting %q, want one", body)
	}
	writeFile(t, cfgPath, "greeting: two\n")
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLine(t, regexp.MustCompile(`msg="config reloaded" changed=\[greeting\]`))
	if _, body := httpGet(t, hello); body != "two" {
		t.Fatalf("greeting after reload %q, want two", body)
	}
	writeFile(t, cfgPath, "greeting: [not, a, string]\n")
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLine(t, regexp.MustCompile(`msg="reload failed; the running config stays in force".*greeting`))
	if _, body := httpGet(t, hello); body != "two" {
		t.Fatalf("greeting after a bad reload %q, want two", body)
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
}

func TestMainFlagsAndConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\n  tokn: x\nworkers: none\n")
	good := filepath.Join(dir, "good.yaml")
	writeFile(t, good, "listen: 127.0.0.1:0\ngreeting: hi\n")
	spec := daemontest.Echo("echo", 18999)
	cases := []struct {
		name     string
		args     []string
		code     int
		out, err []string
	}{
		{"unknown key and bad value", []string{"-config", bad, "-check-config"}, 2, nil,
			[]string{"invalid config: 2 problems", bad + `:4: admin.tokn: unknown key "tokn"`, bad + `:5: workers: "none" is not a valid integer`}},
		{"validation reports every problem", []string{"-check-config", "-listen", "nowhere", "-log-level", "loud", "-greeting", ""}, 2, nil,
			[]string{"3 problems", `listen: "nowhere" is not a host:port address`, `log.level: unknown log level "loud"`, "greeting: must not be empty"}},
		{"good file", []string{"-config", good, "-check-config"}, 0, []string{"echo: config OK"}, nil},
		{"flag overrides file", []string{"-config", good, "-check-config", "-listen", "bad"}, 2, nil, []string{`listen: "bad" is not a host:port`}},
		{"missing file", []string{"-config", filepath.Join(dir, "nope.yaml")}, 2, nil, []string{"no such file"}},
		{"version", []string{"-version"}, 0, []string{"echo ", " commit ", " go1."}, nil},
		{"unknown flag", []string{"-nope"}, 2, nil, []string{"flag provided but not defined: -nope"}},
		{"stray argument", []string{"extra"}, 2, nil, []string{`unexpected argument "extra"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb strings.Builder
			code := spec.Main(c.args, &out, &errb)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, c.code, errb.String())
			}
			for _, w := range c.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout %q lacks %q", out.String(), w)
				}
			}
			for _, w := range c.err {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr %q lacks %q", errb.String(), w)
				}
			}
		})
	}
}

func gaugeValue(t *testing.T, d *daemon.Daemon, name string) float64 {
	t.Helper()
	fams, err := d.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f.Metric[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}
