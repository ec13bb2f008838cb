package cached

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/anvilstack/anvil/pkg/resp"
)

// BenchmarkHashSetCommands runs hash and set commands through the whole
// command path (parse, dispatch, locks, handler, reply) against a small
// (listpack/intset) and a large (hashtable) value.
func BenchmarkHashSetCommands(b *testing.B) {
	for _, size := range []int{16, 10000} {
		for _, cmd := range []string{"HGET", "HSET", "HINCRBY", "HGETALL", "SISMEMBER", "SADD", "SMEMBERS"} {
			if size > 1000 && (cmd == "HGETALL" || cmd == "SMEMBERS") {
				continue
			}
			for _, pipeline := range []int{1, 16} {
				b.Run(fmt.Sprintf("cmd=%s/size=%d/pipeline=%d", cmd, size, pipeline), func(b *testing.B) {
					s := benchServer(b)
					c := s.newClient(&discardConn{})
					var setup []byte
					for i := range size {
						setup = resp.AppendCommandString(setup, "HSET", "h", "field:"+strconv.Itoa(i), strconv.Itoa(i))
						setup = resp.AppendCommandString(setup, "SADD", "s", "member:"+strconv.Itoa(i))
					}
					runBatch(b, c, setup)
					var batch []byte
					for i := range pipeline {
						f := "field:" + strconv.Itoa(i*7%size)
						m := "member:" + strconv.Itoa(i*7%size)
						switch cmd {
						case "HGET":
							batch = resp.AppendCommandString(batch, "HGET", "h", f)
						case "HSET":
							batch = resp.AppendCommandString(batch, "HSET", "h", f, "value")
						case "HINCRBY":
							batch = resp.AppendCommandString(batch, "HINCRBY", "h", f, "1")
						case "HGETALL":
							batch = resp.AppendCommandString(batch, "HGETALL", "h")
						case "SISMEMBER":
							batch = resp.AppendCommandString(batch, "SISMEMBER", "s", m)
						case "SADD":
							batch = resp.AppendCommandString(batch, "SADD", "s", m)
						case "SMEMBERS":
							batch = resp.AppendCommandString(batch, "SMEMBERS", "s")
						}
					}
					b.ReportAllocs()
					for b.Loop() {
						runBatch(b, c, batch)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pipeline), "ns/cmd")
				})
			}
		}
	}
}
