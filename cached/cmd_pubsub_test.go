package cached_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// Pub/sub through go-redis in RESP2 (messages as arrays on a subscribed
// connection) and RESP3 (push messages).
func TestPubSubGoRedis(t *testing.T) {
	_, addr := startCached(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp=%d", proto), func(t *testing.T) {
			rdb := newClient(t, addr, proto)
			pub := newClient(t, addr, proto)

			sub := rdb.Subscribe(ctx, "news", "sport")
			defer sub.Close()
			for range 2 {
				if _, err := sub.Receive(ctx); err != nil {
					t.Fatal(err)
				}
			}
			eq(t, "PUBLISH receivers", ok(t, pub.Publish(ctx, "news", "hello")).Val(), 1)
			m, err := sub.ReceiveMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "message", m.Channel+" "+m.Payload, "news hello")

			if err := sub.PSubscribe(ctx, "n*"); err != nil {
				t.Fatal(err)
			}
			if _, err := sub.Receive(ctx); err != nil {
				t.Fatal(err)
			}
			eq(t, "PUBLISH to channel and pattern", ok(t, pub.Publish(ctx, "news", "both")).Val(), 2)
			m, _ = sub.ReceiveMessage(ctx)
			eq(t, "channel message first", m.Channel+" "+m.Pattern+" "+m.Payload, "news  both")
			m, _ = sub.ReceiveMessage(ctx)
			eq(t, "then the pattern's", m.Channel+" "+m.Pattern+" "+m.Payload, "news n* both")

			eq(t, "NUMPAT", ok(t, pub.PubSubNumPat(ctx)).Val(), 1)
			eq(t, "NUMSUB", fmt.Sprint(ok(t, pub.PubSubNumSub(ctx, "news", "none")).Val()), "map[news:1 none:0]")
			chans := ok(t, pub.PubSubChannels(ctx, "*")).Val()
			eq(t, "CHANNELS", fmt.Sprint(chans), "[news sport]")

			if err := sub.Unsubscribe(ctx, "news", "sport"); err != nil {
				t.Fatal(err)
			}
			if err := sub.PUnsubscribe(ctx); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for ok(t, pub.PubSubNumPat(ctx)).Val() != 0 || len(ok(t, pub.PubSubChannels(ctx, "*")).Val()) != 0 {
				if time.Now().After(deadline) {
					t.Fatal("subscriptions outlived UNSUBSCRIBE")
				}
				time.Sleep(time.Millisecond)
			}
			eq(t, "PUBLISH to nobody", ok(t, pub.Publish(ctx, "news", "x")).Val(), 0)

			// Shard channels.
			ssub := rdb.SSubscribe(ctx, "orders")
			defer ssub.Close()
			if _, err := ssub.Receive(ctx); err != nil {
				t.Fatal(err)
			}
			eq(t, "SPUBLISH", ok(t, pub.SPublish(ctx, "orders", "o1")).Val(), 1)
			m, _ = ssub.ReceiveMessage(ctx)
			eq(t, "smessage", m.Channel+" "+m.Payload, "orders o1")
			eq(t, "SHARDCHANNELS", fmt.Sprint(ok(t, pub.PubSubShardChannels(ctx, "*")).Val()), "[orders]")
			eq(t, "PUBLISH does not reach shard channels", ok(t, pub.Publish(ctx, "orders", "x")).Val(), 0)
		})
	}
}

// TestPubSubSubscribedContext checks the RESP2 subscribed context through
// raw replies: only (P|S)(UN)SUBSCRIBE, PING, QUIT and RESET run, PING
// answers ["pong", arg], and RESP3 lifts the restriction.
func TestPubSubSubscribedContext(t *testing.T) {
	_, addr := startCached(t, nil)
	c := dialRaw(t, addr)
	eq(t, "SUBSCRIBE", c.do("SUBSCRIBE", "a"), "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n")
	eq(t, "GET", c.do("GET", "k"), "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n")
	eq(t, "CLIENT ID", c.do("CLIENT", "ID"), "-ERR Can't execute 'client|id': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n")
	eq(t, "PING", c.do("PING"), "*2\r\n$4\r\npong\r\n$0\r\n\r\n")
	eq(t, "PING x", c.do("PING", "x"), "*2\r\n$4\r\npong\r\n$1\r\nx\r\n")
	eq(t, "UNSUBSCRIBE", c.do("UNSUBSCRIBE"), "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n")
	eq(t, "GET after", c.do("GET", "k"), "$-1\r\n")
	c3 := dialRaw(t, addr)
	c3.do("HELLO", "3")
	eq(t, "RESP3 SUBSCRIBE", c3.do("SUBSCRIBE", "a"), ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n")
	eq(t, "RESP3 GET", c3.do("GET", "k"), "_\r\n")
	eq(t, "RESP3 PING", c3.do("PING"), "+PONG\r\n")
	eq(t, "RESP3 PUBLISH to self", c3.do("PUBLISH", "a", "m"), ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n")
	eq(t, "then its reply", c3.read(), ":1\r\n")
}

// TestPubSubSlowSubscriber checks that a subscriber that never reads does
// not slow publishers down, and is disconnected once it is more than the
// output limit behind.
func TestPubSubSlowSubscriber(t *testing.T) {
	_, addr := startCached(t, nil)
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if tc, ok := slow.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	fmt.Fprintf(slow, "SUBSCRIBE firehose\r\n")
	rdb := newClient(t, addr, 2)
	deadline := time.Now().Add(5 * time.Second)
	for ok(t, rdb.PubSubNumSub(ctx, "firehose")).Val()["firehose"] != 1 {
		if time.Now().After(deadline) {
			t.Fatal("subscriber never subscribed")
		}
		time.Sleep(time.Millisecond)
	}
	payload := strings.Repeat("x", 64<<10)
	start := time.Now()
	// 64 MB through a subscriber that reads nothing: twice the limit.
	for range 1024 {
		if err := rdb.Publish(ctx, "firehose", payload).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("1024 publications took %v behind a stalled subscriber", d)
	}
	for ok(t, rdb.PubSubNumSub(ctx, "firehose")).Val()["firehose"] != 0 {
		if time.Since(start) > 30*time.Second {
			t.Fatal("the stalled subscriber is still subscribed past the output limit")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPubSubAgainstRedis runs the same publisher/subscriber exchanges
// against cached and redis-server and compares every byte the
// subscribers receive: channel and pattern messages in RESP2 and RESP3,
// keyspace and keyevent notifications of every class, and
// notify-keyspace-events as CONFIG parses and prints it.
func TestPubSubAgainstRedis(t *testing.T) {
	redisAddr := startRedis(t)
	_, cachedAddr := startCached(t, nil)
	type side struct{ pub, sub2, sub3 *rawConn }
	open := func(addr string) side {
		s := side{dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)}
		s.sub3.do("HELLO", "3")
		return s
	}
	ref, got := open(redisAddr), open(cachedAddr)
	both := func(f func(s side) string) {
		t.Helper()
		want, have := f(ref), f(got)
		if want != have {
			t.Fatalf("\n redis:  %s\n cached: %s", quote(want), quote(have))
		}
	}
	// Subscriptions (each reply read in full).
	both(func(s side) string {
		out := s.sub2.do("SUBSCRIBE", "c1")
		out += s.sub2.do("PSUBSCRIBE", "c*", "__key*__:*")
		out += s.sub2.read()
		out += s.sub3.do("SUBSCRIBE", "c1", "c2")
		out += s.sub3.read()
		out += s.sub3.do("PSUBSCRIBE", "__keyevent@*")
		return out
	})
	both(func(s side) string { return s.pub.do("PUBLISH", "c1", "hello") })
	both(func(s side) string { return s.sub2.read() + s.sub2.read() + s.sub3.read() })
	both(func(s side) string { return s.pub.do("PUBLISH", "c2", "two") })
	both(func(s side) string { return s.sub2.read() + s.sub3.read() })
	// notify-keyspace-events as CONFIG parses and prints it.
	for _, flags := range []string{"", "KEA", "AKE", "gKE", "$lshzxeKE", "Kl", "El", "KEm", "KEAn", "KEAtdm", "A", "K", "x", "Ag$lshzxeKEtmdn", "KEQ", "kea"} {
		flags := flags
		both(func(s side) string {
			return s.pub.do("CONFIG", "SET", "notify-keyspace-events", flags) + s.pub.do("CONFIG", "GET", "notify-keyspace-events")
		})
	}
	// Every class of event, as both subscribers see it.
	both(func(s side) string { return s.pub.do("CONFIG", "SET", "notify-keyspace-events", "KEA") })
	for _, cmd := range [][]string{
		{"SET", "k", "v"}, {"APPEND", "k", "w"}, {"EXPIRE", "k", "100"}, {"PERSIST", "k"}, {"RENAME", "k", "k2"},
		{"DEL", "k2"}, {"RPUSH", "l", "a", "b"}, {"LPOP", "l"}, {"LMOVE", "l", "l2", "LEFT", "RIGHT"},
		{"HSET", "h", "f", "v"}, {"SADD", "s", "m"}, {"ZADD", "z", "1", "m"}, {"INCR", "n"}, {"COPY", "n", "n2"},
		{"FLUSHDB"},
	} {
		cmd := cmd
		both(func(s side) string { return s.pub.do(cmd...) })
		// Read what each subscriber got for the command: ask redis how
		// many events to expect by reading until a PING marker.
		both(func(s side) string { return drainUntilPong(s.sub3) })
	}
	both(func(s side) string { return s.pub.do("CONFIG", "SET", "notify-keyspace-events", "") })
}

// drainUntilPong sends PING on a RESP3 subscriber and returns everything
// it received before the PONG.
func drainUntilPong(c *rawConn) string {
	c.send([]byte("PING\r\n"))
	var out string
	for {
		r := c.read()
		if r == "+PONG\r\n" {
			return out
		}
		out += r
	}
}
