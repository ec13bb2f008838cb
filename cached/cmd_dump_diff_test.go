package cached_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/anvilstack/anvil/cached/rdb"
	"github.com/anvilstack/anvil/pkg/resp"
)

// TestDumpRestoreAgainstRedis moves every type and encoding between a real
// redis-server 7.0 and cached in both directions: the same value is built
// on both, each one's DUMP is RESTOREd into the other, and the values
// (contents, TYPE, OBJECT ENCODING) must then read the same on both. Where
// Redis's payload does not depend on hash-table order, the DUMP payloads
// must also be the same bytes. Payloads in the encodings of older Redis
// versions (ziplists, zipmaps, quicklists of ziplists, text scores), built
// here, must RESTORE the same on both.
func TestDumpRestoreAgainstRedis(t *testing.T) {
	redisAddr := startRedis(t)
	_, cachedAddr := startCached(t, nil)
	ref, got := dialRaw(t, redisAddr), dialRaw(t, cachedAddr)

	rng := rand.New(rand.NewPCG(3, 4))
	randStr := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return string(b)
	}
	words := func(n int, f func(i int) string) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = f(i)
		}
		return s
	}
	cmd := func(name, key string, args []string) []string { return append([]string{name, key}, args...) }
	pairs := func(n int, f func(i int) (string, string)) []string {
		var s []string
		for i := 0; i < n; i++ {
			a, b := f(i)
			s = append(s, a, b)
		}
		return s
	}

	cases := []struct {
		name      string
		setup     [][]string
		sameBytes bool // Redis's payload is deterministic: compare it
	}{
		{"string/int8", [][]string{{"SET", "k", "-100"}}, true},
		{"string/int16", [][]string{{"SET", "k", "30000"}}, true},
		{"string/int32", [][]string{{"SET", "k", "-2000000000"}}, true},
		{"string/int64", [][]string{{"SET", "k", "9223372036854775807"}}, true},
		{"string/notint", [][]string{{"SET", "k", "0123"}}, true},
		{"string/empty", [][]string{{"SET", "k", ""}}, true},
		{"string/embstr", [][]string{{"SET", "k", "hello world"}}, true},
		{"string/lzf", [][]string{{"SET", "k", strings.Repeat("abcdefgh", 500)}}, true},
		{"string/lzf-text", [][]string{{"SET", "k", strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40)}}, true},
		{"string/random", [][]string{{"SET", "k", randStr(3000)}}, true},
		{"string/appended", [][]string{{"SET", "k", "x"}, {"APPEND", "k", strings.Repeat("y", 100)}}, true},
		{"list/small", [][]string{cmd("RPUSH", "k", []string{"a", "1", "-1", "127", "128", "-4096", "4095", "-32768", "40000",
			"-8388608", "9000000", "-2147483648", "3000000000", "9223372036854775807", "-9223372036854775808", "", strings.Repeat("s", 70), strings.Repeat("t", 5000)})}, true},
		{"list/nodes", [][]string{cmd("RPUSH", "k", words(3000, func(i int) string { return fmt.Sprintf("element-%d-%s", i, strings.Repeat("x", i%50)) }))}, true},
		{"list/ints", [][]string{cmd("RPUSH", "k", words(5000, func(i int) string { return strconv.Itoa(i * 7919) }))}, true},
		{"list/lpush", [][]string{cmd("LPUSH", "k", words(2000, func(i int) string { return strconv.Itoa(i) }))}, false},
		{"set/intset16", [][]string{cmd("SADD", "k", []string{"5", "-3", "100", "32767", "-32768"})}, true},
		{"set/intset32", [][]string{cmd("SADD", "k", []string{"5", "100000", "-2147483648"})}, true},
		{"set/intset64", [][]string{cmd("SADD", "k", []string{"5", "9223372036854775807", "-9223372036854775808"})}, true},
		{"set/hashtable", [][]string{cmd("SADD", "k", []string{"a", "b", "c", "1"})}, false},
		{"set/big-intset", [][]string{cmd("SADD", "k", words(600, func(i int) string { return strconv.Itoa(i * 3) }))}, false},
		{"zset/listpack", [][]string{cmd("ZADD", "k", []string{"1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e", "1e100", "f", "0", "g",
			"0.1", "h", "-1.5e-7", "i", "4611686018427387904", "j", "123456789012", "k"})}, true},
		{"zset/skiplist", [][]string{cmd("ZADD", "k", pairs(300, func(i int) (string, string) {
			return strconv.FormatFloat(float64(i)/7, 'g', -1, 64), "m" + strconv.Itoa(i)
		}))}, true},
		{"zset/longmember", [][]string{cmd("ZADD", "k", []string{"1", strings.Repeat("m", 100), "2", "b"})}, true},
		{"hash/listpack", [][]string{cmd("HSET", "k", []string{"f", "v", "n", "1", "big", "99999999999", "neg", "-100", "e", ""})}, true},
		{"hash/hashtable", [][]string{cmd("HSET", "k", pairs(600, func(i int) (string, string) { return "f" + strconv.Itoa(i), strconv.Itoa(i * i) }))}, false},
		{"hash/longvalue", [][]string{cmd("HSET", "k", []string{"f", strings.Repeat("v", 100), "g", "1"})}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []*rawConn{ref, got} {
				c.do("FLUSHALL")
				for _, s := range tc.setup {
					if r := c.do(s...); strings.HasPrefix(r, "-") {
						t.Fatalf("%v: %s", s[:2], r)
					}
				}
			}
			want := describe(t, ref, "k")
			if have := describe(t, got, "k"); have != want {
				t.Fatalf("the value differs before DUMP\n redis:  %.300s\n cached: %.300s", want, have)
			}
			dr, dc := bulkReply(t, ref.do("DUMP", "k")), bulkReply(t, got.do("DUMP", "k"))
			if tc.sameBytes && dr != dc {
				t.Errorf("DUMP payloads differ\n redis:  %q\n cached: %q", trunc(dr), trunc(dc))
			}
			// Each restores the other's payload.
			ref.do("DEL", "k")
			got.do("DEL", "k")
			if r := ref.do("RESTORE", "k", "0", dc); r != "+OK\r\n" {
				t.Fatalf("redis RESTORE of cached's payload: %s", r)
			}
			if r := got.do("RESTORE", "k", "0", dr); r != "+OK\r\n" {
				t.Fatalf("cached RESTORE of Redis's payload: %s", r)
			}
			if a, b := describe(t, ref, "k"), describe(t, got, "k"); a != want || b != want {
				t.Fatalf("after the exchange\n before: %.300s\n redis:  %.300s\n cached: %.300s", want, a, b)
			}
			// And cached reads its own.
			got.do("RESTORE", "k2", "0", dc)
			if b := describe(t, got, "k2"); b != want {
				t.Fatalf("cached's own round trip\n want: %.300s\n have: %.300s", want, b)
			}
		})
	}

	// Older encodings, as Redis 6.2 and before wrote them (RDB version 9).
	legacy := []struct {
		name    string
		payload string
	}{
		{"list-ziplist", payload(9, rdb.TypeListZiplist, rdbString(ziplist("a", "12", "-5", "70000", "", strings.Repeat("z", 300), "9223372036854775807", "5000000000", "-100000", "12345678")))},
		{"list-quicklist-ziplists", payload(9, rdb.TypeListQuicklist, append(rdb.AppendLen(nil, 2),
			append(rdbString(ziplist("x", "1", "2")), rdbString(ziplist("y", "-3", "zz"))...)...))},
		{"list-plain", payload(9, rdb.TypeList, append(rdb.AppendLen(nil, 3), append(rdbString([]byte("a")), append(rdbString([]byte("77")), rdbString([]byte("c"))...)...)...))},
		{"hash-ziplist", payload(9, rdb.TypeHashZiplist, rdbString(ziplist("f", "v", "n", "1", "long", strings.Repeat("q", 80))))},
		{"hash-zipmap", payload(9, rdb.TypeHashZipmap, rdbString(zipmap("field", "value", "n", "1", "big", strings.Repeat("b", 300))))},
		{"hash-plain", payload(9, rdb.TypeHash, append(rdb.AppendLen(nil, 2), append(append(rdbString([]byte("a")), rdbString([]byte("1"))...), append(rdbString([]byte("b")), rdbString([]byte("2"))...)...)...))},
		{"zset-ziplist", payload(9, rdb.TypeZSetZiplist, rdbString(ziplist("c", "-inf", "a", "1", "b", "2.5", "d", "3")))},
		{"zset-text-scores", payload(9, rdb.TypeZSet, append(rdb.AppendLen(nil, 3),
			append(append(rdbString([]byte("a")), textScore("1.5")...), append(append(rdbString([]byte("b")), 254), append(rdbString([]byte("c")), textScore("-2")...)...)...)...))},
		{"set-plain-ints", payload(9, rdb.TypeSet, append(rdb.AppendLen(nil, 3), append(rdbString([]byte("3")), append(rdbString([]byte("1")), rdbString([]byte("2"))...)...)...))},
		{"set-plain-strings", payload(9, rdb.TypeSet, append(rdb.AppendLen(nil, 2), append(rdbString([]byte("x")), rdbString([]byte("1"))...)...))},
		{"set-intset", payload(9, rdb.TypeSetIntset, rdbString(rdb.AppendIntset(nil, []int64{-5, 0, 7, 100000})))},
	}
	for _, tc := range legacy {
		t.Run("legacy/"+tc.name, func(t *testing.T) {
			for _, c := range []*rawConn{ref, got} {
				c.do("FLUSHALL")
			}
			r1, r2 := ref.do("RESTORE", "k", "0", tc.payload), got.do("RESTORE", "k", "0", tc.payload)
			if r1 != "+OK\r\n" || r2 != r1 {
				t.Fatalf("RESTORE: redis %q, cached %q", r1, r2)
			}
			if a, b := describe(t, ref, "k"), describe(t, got, "k"); a != b {
				t.Fatalf("restored values differ\n redis:  %.300s\n cached: %.300s", a, b)
			}
		})
	}

	// Corrupt payloads with a valid checksum: both refuse them the same
	// (Redis when it checks payloads deeply, as cached always does).
	t.Run("corrupt", func(t *testing.T) {
		ref.do("CONFIG", "SET", "sanitize-dump-payload", "yes")
		defer ref.do("CONFIG", "SET", "sanitize-dump-payload", "no")
		for i, p := range []string{
			payload(10, rdb.TypeHashListpack, rdbString([]byte("\x07\x00\x00\x00\x02\x00\xff"))),                                                                                                         // count says 2, none there
			payload(10, rdb.TypeZSetZiplist, rdbString(ziplist("a"))),                                                                                                                                    // odd
			payload(10, rdb.TypeSetIntset, rdbString([]byte("\x02\x00\x00\x00\x05\x00\x00\x00\x01\x00"))),                                                                                                // short
			payload(10, rdb.TypeListQuicklist2, append(rdb.AppendLen(nil, 1), append(rdb.AppendLen(nil, 3), rdbString([]byte("x"))...)...)),                                                              // bad container
			payload(10, rdb.TypeHash, append(rdb.AppendLen(nil, 2), append(append(rdbString([]byte("a")), rdbString([]byte("1"))...), append(rdbString([]byte("a")), rdbString([]byte("2"))...)...)...)), // dup field
			payload(10, rdb.TypeZSet2, append(rdb.AppendLen(nil, 1), append(rdbString([]byte("a")), "\x00\x00\x00\x00\x00\x00\xf8\x7f"...)...)),                                                          // NaN
			payload(10, rdb.TypeStreamListpacks2, nil),
			payload(11, rdb.TypeString, rdbString([]byte("x"))),
		} {
			r1, r2 := ref.do("RESTORE", "c", "0", p, "REPLACE"), got.do("RESTORE", "c", "0", p, "REPLACE")
			if r1 != r2 {
				t.Errorf("payload %d: redis %q, cached %q", i, r1, r2)
			}
		}
	})
}

// describe renders key's value, TYPE and OBJECT ENCODING; collections
// whose order Redis does not define are sorted.
func describe(t *testing.T, c *rawConn, key string) string {
	t.Helper()
	typ := c.do("TYPE", key)
	enc := c.do("OBJECT", "ENCODING", key)
	var val string
	switch typ {
	case "+string\r\n":
		val = c.do("GET", key)
	case "+list\r\n":
		val = c.do("LRANGE", key, "0", "-1")
	case "+set\r\n":
		val = sortedReply(t, c.do("SMEMBERS", key), 1)
	case "+zset\r\n":
		val = c.do("ZRANGE", key, "0", "-1", "WITHSCORES")
	case "+hash\r\n":
		if enc == "$8\r\nlistpack\r\n" {
			val = c.do("HGETALL", key)
		} else {
			val = sortedReply(t, c.do("HGETALL", key), 2)
		}
	default:
		val = "?"
	}
	return typ + enc + val
}

// sortedReply sorts an array reply in groups of n elements.
func sortedReply(t *testing.T, raw string, n int) string {
	v, err := resp.NewReader(strings.NewReader(raw)).ReadValue()
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for i := 0; i+n <= len(v.Elems); i += n {
		var g []string
		for _, e := range v.Elems[i : i+n] {
			g = append(g, string(e.Str))
		}
		groups = append(groups, strings.Join(g, "\x00"))
	}
	sort.Strings(groups)
	return strings.Join(groups, "\n")
}

func bulkReply(t *testing.T, raw string) string {
	t.Helper()
	v, err := resp.NewReader(strings.NewReader(raw)).ReadValue()
	if err != nil || v.Kind != resp.KindBulk {
		t.Fatalf("not a bulk reply: %q (%v)", raw, err)
	}
	return string(v.Str)
}

func trunc(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// payload builds a DUMP payload: type, body, version, CRC-64.
func payload(version uint16, typ byte, body []byte) string {
	b := append([]byte{typ}, body...)
	b = binary.LittleEndian.AppendUint16(b, version)
	b = binary.LittleEndian.AppendUint64(b, rdb.CRC64(0, b))
	return string(b)
}

// rdbString is a plain RDB string (length and bytes).
func rdbString(s []byte) []byte { return append(rdb.AppendLen(nil, uint64(len(s))), s...) }

// textScore is an RDB_TYPE_ZSET score.
func textScore(s string) []byte { return append([]byte{byte(len(s))}, s...) }

// ziplist builds a ziplist of elements as Redis 6.2 encodes them.
func ziplist(elems ...string) []byte {
	b := make([]byte, 10)
	prev, tail := 0, 10
	for _, e := range elems {
		start := len(b)
		tail = start
		if prev < 254 {
			b = append(b, byte(prev))
		} else {
			b = append(b, 254)
			b = binary.LittleEndian.AppendUint32(b, uint32(prev))
		}
		if v, err := strconv.ParseInt(e, 10, 64); err == nil && strconv.FormatInt(v, 10) == e {
			switch {
			case v >= 0 && v <= 12:
				b = append(b, 0xF1+byte(v))
			case v >= -128 && v <= 127:
				b = append(b, 0xFE, byte(v))
			case v >= -32768 && v <= 32767:
				b = append(b, 0xC0)
				b = binary.LittleEndian.AppendUint16(b, uint16(v))
			case v >= -8388608 && v <= 8388607:
				b = append(b, 0xF0, byte(v), byte(v>>8), byte(v>>16))
			case v >= -2147483648 && v <= 2147483647:
				b = append(b, 0xD0)
				b = binary.LittleEndian.AppendUint32(b, uint32(v))
			default:
				b = append(b, 0xE0)
				b = binary.LittleEndian.AppendUint64(b, uint64(v))
			}
		} else {
			switch n := len(e); {
			case n < 64:
				b = append(b, byte(n))
			case n < 16384:
				b = append(b, 0x40|byte(n>>8), byte(n))
			default:
				b = append(b, 0x80)
				b = binary.BigEndian.AppendUint32(b, uint32(n))
			}
			b = append(b, e...)
		}
		prev = len(b) - start
	}
	b = append(b, 0xFF)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint32(b[4:], uint32(tail))
	binary.LittleEndian.PutUint16(b[8:], uint16(len(elems)))
	return b
}

// zipmap builds a Redis 2.x zipmap of field/value pairs.
func zipmap(kv ...string) []byte {
	b := []byte{byte(len(kv) / 2)}
	ln := func(n int) {
		if n < 254 {
			b = append(b, byte(n))
		} else {
			b = append(b, 254)
			b = binary.LittleEndian.AppendUint32(b, uint32(n))
		}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		ln(len(kv[i]))
		b = append(b, kv[i]...)
		ln(len(kv[i+1]))
		b = append(b, 1) // one free byte after the value
		b = append(b, kv[i+1]...)
		b = append(b, 0)
	}
	return append(b, 0xFF)
}
