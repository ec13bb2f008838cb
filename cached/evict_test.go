package cached_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anvilstack/anvil/cached"
	"github.com/anvilstack/anvil/pkg/resp"
)

// Under an allkeys policy, writes over maxmemory go on while the
// background evictor deletes keys: used memory never goes more than the
// slack (1/64 of maxmemory, at least 256 KB) over the limit, and comes
// back under it. Under a volatile policy with nothing to evict, the first
// write over the limit is refused with OOM, as in Redis.
func TestEvictionInBackground(t *testing.T) {
	const mm = 4 << 20
	const slack = 256 << 10
	_, addr := startCached(t, func(c *cached.Config) {
		c.MaxMemory = mm
		c.MaxMemoryPolicy = "allkeys-lru"
	})
	c := dialRaw(t, addr)
	used := func() int64 {
		info := c.do("INFO", "memory")
		i := strings.Index(info, "used_memory:")
		if i < 0 {
			t.Fatalf("no used_memory in %q", info)
		}
		v := info[i+len("used_memory:"):]
		n, err := strconv.ParseInt(v[:strings.IndexByte(v, '\r')], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	val := strings.Repeat("v", 1000)
	peak := int64(0)
	for i := range 200 {
		var req []byte
		for j := range 50 {
			req = resp.AppendCommandString(req, "SET", fmt.Sprint("k:", i, ":", j), val)
		}
		c.send(req)
		for range 50 {
			if got := c.read(); got != "+OK\r\n" {
				t.Fatalf("SET = %q", got)
			}
		}
		peak = max(peak, used())
	}
	if peak > mm+slack+64<<10 { // + one pipeline of writes
		t.Errorf("used_memory peaked at %d, over maxmemory %d + slack %d", peak, mm, slack)
	}
	deadline := time.Now().Add(5 * time.Second)
	for used() > mm {
		if time.Now().After(deadline) {
			t.Fatalf("used_memory %d still over maxmemory %d", used(), mm)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(c.do("INFO", "stats"), "evicted_keys:") {
		t.Fatal("no evicted_keys")
	}

	// volatile-lru with no key that has a TTL: nothing can be evicted.
	if got := c.do("CONFIG", "SET", "maxmemory-policy", "volatile-lru"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET = %q", got)
	}
	for i := 0; ; i++ {
		got := c.do("SET", fmt.Sprint("x", i), val)
		if strings.HasPrefix(got, "-OOM") {
			if u := used(); u > mm+2000 {
				t.Fatalf("OOM only at used_memory %d, maxmemory %d", u, mm)
			}
			break
		}
		if got != "+OK\r\n" || i > 10000 {
			t.Fatalf("SET %d = %q", i, got)
		}
	}
}

// CONFIG SET maxmemory under the memory in use evicts at once, with the
// "evicted" events, before any further command (Redis's "Keyspace
// notifications: evicted events" waits for the event and sends nothing).
func TestConfigSetMaxmemoryEvicts(t *testing.T) {
	_, addr := startCached(t, func(c *cached.Config) { c.MaxMemoryPolicy = "allkeys-lru" })
	c := dialRaw(t, addr)
	sub := dialRaw(t, addr)
	eq(t, "notify", c.do("CONFIG", "SET", "notify-keyspace-events", "Ee"), "+OK\r\n")
	eq(t, "PSUBSCRIBE", sub.do("PSUBSCRIBE", "*"), "*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n")
	eq(t, "SET", c.do("SET", "foo", "bar"), "+OK\r\n")
	eq(t, "CONFIG SET maxmemory", c.do("CONFIG", "SET", "maxmemory", "1"), "+OK\r\n")
	eq(t, "event", sub.read(), "*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$22\r\n__keyevent@0__:evicted\r\n$3\r\nfoo\r\n")
	eq(t, "CONFIG SET maxmemory 0", c.do("CONFIG", "SET", "maxmemory", "0"), "+OK\r\n")
	eq(t, "DBSIZE", c.do("DBSIZE"), ":0\r\n")
}
