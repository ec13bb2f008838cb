package cached_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/resp"
)

// The RSS bound (README.md "Memory and eviction"): with maxmemory set and
// allkeys-lru, writing three times maxmemory of 1 KB values keeps the
// process's resident memory under 1.5 x maxmemory + 128 MB. It builds and
// runs the real binary and writes ~200 MB, so it runs only when asked:
//
//	ANVIL_CACHED_RSS_TEST=1 go test -run TestRSSBound -v ./cached/
func TestRSSBound(t *testing.T) {
	if os.Getenv("ANVIL_CACHED_RSS_TEST") == "" {
		t.Skip("set ANVIL_CACHED_RSS_TEST=1 to run (builds cached, writes ~200 MB)")
	}
	const maxmemory = 64 << 20
	bin := filepath.Join(t.TempDir(), "cached")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/cached").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-listen", addr, "-admin", "127.0.0.1:0", "-data-dir", t.TempDir(),
		"-maxmemory", strconv.Itoa(maxmemory), "-maxmemory-policy", "allkeys-lru", "-log-level", "warn")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var conn net.Conn
	for deadline := time.Now().Add(10 * time.Second); ; {
		var err error
		if conn, err = net.Dial("tcp", addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer conn.Close()
	r := resp.NewReader(conn)
	val := strings.Repeat("v", 1024)
	maxRSS := int64(0)
	const keys = 3 * maxmemory / 1024
	for i := 0; i < keys; i += 100 {
		var batch []byte
		for j := i; j < i+100; j++ {
			batch = resp.AppendCommandString(batch, "SET", "key:"+strconv.Itoa(j), val)
		}
		if _, err := conn.Write(batch); err != nil {
			t.Fatal(err)
		}
		for range 100 {
			if _, err := r.ReadRaw(nil); err != nil {
				t.Fatal(err)
			}
		}
		if i%10000 == 0 {
			maxRSS = max(maxRSS, rss(t, cmd.Process.Pid))
		}
	}
	maxRSS = max(maxRSS, rss(t, cmd.Process.Pid))
	bound := int64(maxmemory*3/2 + 128<<20)
	t.Logf("maxmemory %d MB: peak RSS %d MB (bound %d MB) after writing %d MB", maxmemory>>20, maxRSS>>20, bound>>20, keys>>10)
	if maxRSS > bound {
		t.Fatalf("RSS %d MB over the bound %d MB", maxRSS>>20, bound>>20)
	}
}

func rss(t *testing.T, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}
