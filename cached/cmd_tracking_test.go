package cached_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestTrackingGoRedisCSC runs go-redis's own client-side cache (RESP3,
// CLIENT TRACKING on every pooled connection) against cached: a read is
// served from the local cache until another client changes the key, and
// the invalidation (or a flush's) makes the next read fetch the new value.
func TestTrackingGoRedisCSC(t *testing.T) {
	_, addr := startCached(t, nil)
	csc := redis.NewClient(&redis.Options{Addr: addr, Protocol: 3, DisableIdentity: true,
		ClientSideCacheConfig: &redis.CacheConfig{MaxEntries: 1000, DrainInterval: time.Millisecond}})
	t.Cleanup(func() { _ = csc.Close() })
	writer := newClient(t, addr, 2)

	ok(t, writer.Set(ctx, "k", "v1", 0))
	eq(t, "first read", ok(t, csc.Get(ctx, "k")).Val(), "v1")
	hits := csc.CSCStats().Hits
	for range 10 {
		eq(t, "cached read", ok(t, csc.Get(ctx, "k")).Val(), "v1")
	}
	if csc.CSCStats().Hits < hits+10 {
		t.Fatalf("reads were not served by the local cache: %+v", csc.CSCStats())
	}
	info := ok(t, writer.Info(ctx, "clients", "stats")).Val()
	if !strings.Contains(info, "tracking_clients:1\r\n") || !strings.Contains(info, "tracking_total_keys:1\r\n") {
		t.Fatalf("server side of the cache:\n%s", info)
	}

	eventually := func(what, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			v, err := csc.Get(ctx, "k").Result()
			if err == redis.Nil {
				v = "(nil)"
			} else if err != nil {
				t.Fatal(err)
			}
			if v == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the cached client still reads %q, want %q", what, v, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	ok(t, writer.Set(ctx, "k", "v2", 0))
	eventually("after SET by another client", "v2")
	ok(t, writer.Append(ctx, "k", "+"))
	eventually("after APPEND", "v2+")
	ok(t, writer.FlushAll(ctx))
	eventually("after FLUSHALL", "(nil)")
	ok(t, writer.Set(ctx, "k", "v3", 0))
	eventually("after a new SET", "v3")
	ok(t, writer.Expire(ctx, "k", 10*time.Millisecond))
	eventually("after expiry", "(nil)")
}

// TestTrackingAgainstRedis runs two-connection tracking scenarios against
// cached and redis-server and compares every byte the tracking and
// redirect connections receive.
func TestTrackingAgainstRedis(t *testing.T) {
	redisAddr := startRedis(t)
	_, cachedAddr := startCached(t, nil)
	type side struct {
		r, other, redir *rawConn
		redirID         string
	}
	open := func(addr string) *side {
		s := &side{r: dialRaw(t, addr), other: dialRaw(t, addr), redir: dialRaw(t, addr)}
		s.redirID = strings.TrimSuffix(strings.TrimPrefix(s.redir.do("CLIENT", "ID"), ":"), "\r\n")
		s.redir.do("SUBSCRIBE", "__redis__:invalidate")
		return s
	}
	ref, got := open(redisAddr), open(cachedAddr)
	ids := regexp.MustCompile(`:\d+\r\n`)
	step := 0
	both := func(f func(s *side) string) {
		t.Helper()
		step++
		want, have := f(ref), f(got)
		if ids.ReplaceAllString(want, ":ID\r\n") != ids.ReplaceAllString(have, ":ID\r\n") {
			t.Fatalf("step %d\n redis:  %s\n cached: %s", step, quote(want), quote(have))
		}
	}
	// RESP2 tracking redirected to a subscribed RESP2 connection.
	both(func(s *side) string { return s.r.do("CLIENT", "TRACKING", "on", "REDIRECT", s.redirID) })
	both(func(s *side) string {
		return s.other.do("MSET", "a", "1", "b", "2") + s.r.do("GET", "a") + s.r.do("MGET", "b", "c") +
			s.other.do("INCR", "a") + s.redir.read() + s.other.do("DEL", "b", "c") + s.redir.read() + s.other.do("SET", "c", "3") + s.redir.read()
	})
	// The client's own change in NOLOOP mode is not reported.
	both(func(s *side) string {
		return s.r.do("CLIENT", "TRACKING", "on", "REDIRECT", s.redirID, "NOLOOP") + s.r.do("GET", "x") + s.r.do("GET", "y") +
			s.r.do("SET", "x", "1") + s.other.do("SET", "y", "1") + s.redir.read()
	})
	// FLUSHALL: a null for everything.
	both(func(s *side) string { return s.r.do("GET", "y") + s.other.do("FLUSHALL") + s.redir.read() })
	// BCAST with prefixes: one message per prefix per command.
	both(func(s *side) string {
		return s.r.do("CLIENT", "TRACKING", "off") + s.r.do("CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", s.redirID, "PREFIX", "user:", "PREFIX", "item:") +
			s.other.do("MSET", "user:1", "a", "item:9", "b", "other", "c") + s.redir.read() + s.redir.read()
	})
	// BCAST on the connection itself, pipelined: the keys of the whole
	// batch in one message per prefix, after the batch's replies.
	both(func(s *side) string {
		out := s.r.do("CLIENT", "TRACKING", "off") + s.r.do("HELLO", "3")[:0] + s.r.do("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "k", "PREFIX", "j")
		s.r.send([]byte("SET k9 1\r\nMSET k7 1 j8 2 other 3\r\nPING\r\n"))
		for range 5 { // three replies, then j's message and k's
			out += s.r.read()
		}
		return out + s.r.do("CLIENT", "TRACKING", "off") + s.r.do("HELLO", "2")[:0]
	})
	// RESP3 on the tracking connection itself.
	both(func(s *side) string {
		return s.r.do("CLIENT", "TRACKING", "off") + s.r.do("HELLO", "3")[:0] + s.r.do("CLIENT", "TRACKING", "on") +
			s.other.do("SET", "k", "1") + s.r.do("GET", "k") + s.other.do("SET", "k", "2") + s.r.do("PING") + s.r.read()
	})
	// OPTIN: only reads after CLIENT CACHING yes are tracked.
	both(func(s *side) string {
		return s.r.do("CLIENT", "TRACKING", "off") + s.r.do("CLIENT", "TRACKING", "on", "OPTIN") +
			s.r.do("GET", "o1") + s.r.do("CLIENT", "CACHING", "yes") + s.r.do("GET", "o2") + s.r.do("GET", "o3") +
			s.other.do("MSET", "o1", "x", "o2", "x", "o3", "x") + s.r.do("PING") + s.r.read()
	})
	// A redirect target that went away: tracking-redir-broken.
	both(func(s *side) string {
		gone := dialRaw(t, addrOf(s.other))
		id := strings.TrimSuffix(strings.TrimPrefix(gone.do("CLIENT", "ID"), ":"), "\r\n")
		out := s.r.do("CLIENT", "TRACKING", "off") + s.r.do("CLIENT", "TRACKING", "on", "REDIRECT", id) + s.r.do("GET", "gk")
		out += gone.do("QUIT")
		gone.conn.Close()
		waitGone(t, s.other, id)
		out += s.other.do("SET", "gk", "1") + s.r.do("PING") + s.r.read()
		info := s.r.do("CLIENT", "TRACKINGINFO")
		return out + info
	})
}

func addrOf(c *rawConn) string { return c.conn.RemoteAddr().String() }

// waitGone waits until the client with this id has left CLIENT LIST.
func waitGone(t *testing.T, c *rawConn, id string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for strings.Contains(c.do("CLIENT", "LIST"), "id="+id+" ") {
		if time.Now().After(deadline) {
			t.Fatalf("client %s never left", id)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestTrackingTableLimit checks that tracking-table-max-keys bounds the
// server's memory: over the limit, keys are dropped from the table with
// an invalidation each, as if they had changed.
func TestTrackingTableLimit(t *testing.T) {
	_, addr := startCached(t, nil)
	redir := dialRaw(t, addr)
	id := strings.TrimSuffix(strings.TrimPrefix(redir.do("CLIENT", "ID"), ":"), "\r\n")
	redir.do("SUBSCRIBE", "__redis__:invalidate")
	r := dialRaw(t, addr)
	eq(t, "TRACKING", r.do("CLIENT", "TRACKING", "on", "REDIRECT", id), "+OK\r\n")
	eq(t, "limit", r.do("CONFIG", "SET", "tracking-table-max-keys", "100"), "+OK\r\n")
	for i := range 1000 {
		r.do("GET", "key"+strconv.Itoa(i))
	}
	info := r.do("INFO", "stats")
	if !strings.Contains(info, "tracking_total_keys:100\r\n") {
		t.Fatalf("table over its limit:\n%s", info)
	}
	for range 900 {
		if msg := redir.read(); !strings.HasPrefix(msg, "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n") {
			t.Fatalf("eviction message %q", msg)
		}
	}
	// Lowering the limit evicts at once.
	eq(t, "lower", r.do("CONFIG", "SET", "tracking-table-max-keys", "10"), "+OK\r\n")
	for range 90 {
		redir.read()
	}
	eq(t, "nothing more", redir.do("PING"), "*2\r\n$4\r\npong\r\n$0\r\n\r\n")
	// CLIENT LIST shows tracking, its redirection, and a broken one.
	list := r.do("CLIENT", "LIST")
	if !regexp.MustCompile(`flags=t .* redir=` + id + ` `).MatchString(list) {
		t.Fatalf("CLIENT LIST:\n%s", list)
	}
}

// TestTrackingAfterReply checks that invalidations a RESP3 client's own
// command causes come after the command's reply, including the reply of
// an EXEC, of a blocked BLMOVE that another client unblocks, and when
// the key is evicted by the command.
func TestTrackingAfterReply(t *testing.T) {
	_, addr := startCached(t, nil)
	r := dialRaw(t, addr)
	r.do("HELLO", "3")
	eq(t, "TRACKING", r.do("CLIENT", "TRACKING", "on"), "+OK\r\n")
	r.do("SET", "a", "1")
	r.do("GET", "a")
	eq(t, "INCR reply first", r.do("INCR", "a"), ":2\r\n")
	eq(t, "then the invalidation", r.read(), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n")
	r.do("GET", "a")
	r.do("MULTI")
	r.do("INCR", "a")
	r.do("GET", "a")
	eq(t, "EXEC reply first", r.do("EXEC"), "*2\r\n:3\r\n$1\r\n3\r\n")
	eq(t, "then the invalidation", r.read(), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n")
	// A blocked BLMOVE into a tracked list.
	r.do("RPUSH", "dst", "x")
	r.do("LRANGE", "dst", "0", "-1")
	r.send([]byte("BLMOVE src dst LEFT LEFT 0\r\n"))
	other := dialRaw(t, addr)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(other.do("INFO", "clients"), "blocked_clients:1\r\n") {
		if time.Now().After(deadline) {
			t.Fatal("BLMOVE did not block")
		}
		time.Sleep(time.Millisecond)
	}
	other.do("RPUSH", "src", "foo")
	eq(t, "BLMOVE reply", r.read(), "$3\r\nfoo\r\n")
	eq(t, "then the invalidation", r.read(), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\ndst\r\n")
	// FLUSHDB: one null, after the reply, however many databases.
	r.do("GET", "a")
	eq(t, "FLUSHALL", r.do("FLUSHALL"), "+OK\r\n")
	eq(t, "one null", r.read(), ">2\r\n$10\r\ninvalidate\r\n_\r\n")
	eq(t, "nothing else", r.do("PING"), "+PONG\r\n")
	_ = fmt.Sprint()
}
