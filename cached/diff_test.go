package cached_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/resp"
)

// The differential harness: every script in testdata/diff runs against
// cached and a real redis-server (Debian's 7.0.15) started on a free
// loopback port, and every reply must be byte for byte the same.
//
// Script lines:
//
//	CMD arg ...        send it to both, compare the replies exactly
//	~CMD arg ...       send it to both, do not compare (TIME, CLIENT ID ...)
//	^CMD arg ...       compare the elements of an array reply in any order (KEYS)
//	%sleep MS          wait (for TTLs to pass)
//	!raw "bytes"       Go-quoted bytes sent on fresh connections to both;
//	                   everything until the server closes (or 2 s) compared
//	# comment
//
// Arguments are split as redis-cli does ("quoted strings", \x00 escapes).
// Each script starts on fresh connections after FLUSHALL.

// startRedis starts redis-server for the test, or skips loudly.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("SKIPPING differential tests: redis-server is not installed (make test-setup installs Debian's redis-server)")
	}
	dir := t.TempDir()
	for attempt := 0; attempt < 5; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log"))
		if err := cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-exited:
				deadline = time.Time{} // port taken by someone else: try another
			default:
			}
			if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
				c.Close()
				t.Cleanup(func() {
					_ = cmd.Process.Signal(syscall.SIGTERM)
					select {
					case <-exited:
					case <-time.After(5 * time.Second):
						_ = cmd.Process.Kill()
						<-exited
					}
				})
				return addr
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
		<-exited
	}
	t.Fatal("redis-server did not start")
	return ""
}

func TestDifferential(t *testing.T) {
	redisAddr := startRedis(t)
	_, cachedAddr := startCached(t, nil)
	scripts, _ := filepath.Glob("testdata/diff/*.txt")
	if len(scripts) == 0 {
		t.Fatal("no scripts in testdata/diff")
	}
	for _, path := range scripts {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			runScript(t, path, redisAddr, cachedAddr)
		})
	}
}

func runScript(t *testing.T, path, redisAddr, cachedAddr string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref, got := dialRaw(t, redisAddr), dialRaw(t, cachedAddr)
	for _, c := range []*rawConn{ref, got} {
		c.do("FLUSHALL")
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		where := fmt.Sprintf("%s:%d %s", filepath.Base(path), lineNo, line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "%sleep "):
			ms, _ := strconv.Atoi(strings.TrimPrefix(line, "%sleep "))
			time.Sleep(time.Duration(ms) * time.Millisecond)
		case strings.HasPrefix(line, "!raw "):
			data, err := strconv.Unquote(strings.TrimPrefix(line, "!raw "))
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			r1, c1 := rawExchange(t, redisAddr, data)
			r2, c2 := rawExchange(t, cachedAddr, data)
			if r1 != r2 || c1 != c2 {
				t.Errorf("%s\n redis:  %q (closed %v)\n cached: %q (closed %v)", where, r1, c1, r2, c2)
			}
		case strings.HasPrefix(line, "^"):
			args := splitWords(t, line[1:])
			want, have := sortedElems(t, ref.do(args...)), sortedElems(t, got.do(args...))
			if want != have {
				t.Errorf("%s (unordered)\n redis:  %s\n cached: %s", where, want, have)
			}
		case strings.HasPrefix(line, "~"):
			args := splitWords(t, line[1:])
			ref.do(args...)
			got.do(args...)
		default:
			args := splitWords(t, line)
			want, have := ref.do(args...), got.do(args...)
			if want != have {
				t.Errorf("%s\n redis:  %s\n cached: %s", where, quote(want), quote(have))
			}
		}
	}
}

// sortedElems renders an array reply with its elements sorted.
func sortedElems(t *testing.T, raw string) string {
	v, err := resp.NewReader(strings.NewReader(raw)).ReadValue()
	if err != nil {
		t.Fatalf("reply %q: %v", raw, err)
	}
	if v.Kind != resp.KindArray {
		return v.String()
	}
	elems := make([]string, len(v.Elems))
	for i, e := range v.Elems {
		elems[i] = e.String()
	}
	sort.Strings(elems)
	return "[" + strings.Join(elems, " ") + "]"
}

// rawExchange sends data on a fresh connection and returns everything the
// server writes until it closes the connection or falls silent.
func rawExchange(t *testing.T, addr, data string) (string, bool) {
	c := dialRaw(t, addr)
	c.send([]byte(data))
	if tc, ok := c.conn.(*net.TCPConn); ok {
		_ = tc.CloseWrite() // like a client that sent everything
	}
	out, closed := c.readAll()
	return out, closed
}
