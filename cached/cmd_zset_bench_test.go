package cached

import (
	"fmt"
	"testing"

	"github.com/anvilstack/anvil/pkg/resp"
)

// zsetBenchClient returns a client on a fresh server with "small" (a
// listpack of 100 members) and "large" (a skiplist of n members) loaded.
func zsetBenchClient(tb testing.TB, n int) *Client {
	tb.Helper()
	s := benchServer(tb)
	c := s.newClient(&discardConn{})
	var batch []byte
	for i := 0; i < 100; i++ {
		batch = resp.AppendCommandString(batch, "ZADD", "small", itoa(int64(i)), "member:"+itoa(int64(i)))
	}
	runBatch(tb, c, batch)
	for i := 0; i < n; i += 1000 {
		batch = batch[:0]
		for j := i; j < i+1000 && j < n; j++ {
			batch = resp.AppendCommandString(batch, "ZADD", "large", itoa(int64(j*7919%n)), "member:"+itoa(int64(j)))
		}
		runBatch(tb, c, batch)
	}
	return c
}

func BenchmarkZSet(b *testing.B) {
	const n = 100000
	for _, bc := range []struct {
		name string
		cmds func(i int) [][]string
	}{
		{"ZADD-update", func(i int) [][]string {
			return [][]string{{"ZADD", "large", itoa(int64(i % 1000)), "member:" + itoa(int64(i*31%n))}}
		}},
		{"ZADD-new", func(i int) [][]string { return [][]string{{"ZADD", "fresh", itoa(int64(i)), "new:" + itoa(int64(i))}} }},
		{"ZINCRBY", func(i int) [][]string { return [][]string{{"ZINCRBY", "large", "1", "member:" + itoa(int64(i*31%n))}} }},
		{"ZSCORE", func(i int) [][]string { return [][]string{{"ZSCORE", "large", "member:" + itoa(int64(i*31%n))}} }},
		{"ZRANK", func(i int) [][]string { return [][]string{{"ZRANK", "large", "member:" + itoa(int64(i*31%n))}} }},
		{"ZRANGE-10-WITHSCORES", func(i int) [][]string {
			r := int64(i * 31 % (n - 10))
			return [][]string{{"ZRANGE", "large", itoa(r), itoa(r + 9), "WITHSCORES"}}
		}},
		{"ZRANGEBYSCORE-LIMIT-10", func(i int) [][]string {
			return [][]string{{"ZRANGEBYSCORE", "large", itoa(int64(i % 1000)), "+inf", "LIMIT", "0", "10"}}
		}},
		{"ZADD-small-listpack", func(i int) [][]string {
			return [][]string{{"ZADD", "small", itoa(int64(i % 1000)), "member:" + itoa(int64(i%100))}}
		}},
		{"ZRANGE-small-all", func(i int) [][]string { return [][]string{{"ZRANGE", "small", "0", "-1"}} }},
		{"ZPOPMIN+ZADD", func(i int) [][]string {
			return [][]string{{"ZPOPMIN", "large"}, {"ZADD", "large", itoa(int64(i % 1000)), "member:" + itoa(int64(i%n))}}
		}},
	} {
		for _, pipeline := range []int{1, 16} {
			b.Run(fmt.Sprintf("cmd=%s/pipeline=%d", bc.name, pipeline), func(b *testing.B) {
				c := zsetBenchClient(b, n)
				batches := make([][]byte, 1024)
				k := 0
				cmdsPerBatch := 0
				for i := range batches {
					cmdsPerBatch = 0
					for p := 0; p < pipeline; p++ {
						for _, cmd := range bc.cmds(k) {
							batches[i] = resp.AppendCommandString(batches[i], cmd...)
							cmdsPerBatch++
						}
						k++
					}
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					runBatch(b, c, batches[i%len(batches)])
					i++
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*cmdsPerBatch), "ns/cmd")
			})
		}
	}
}
