package cached

import (
	"testing"

	"github.com/anvilstack/anvil/pkg/resp"
)

// BenchmarkListCommands measures list commands and PUBLISH through the
// whole command path (parse, dispatch, locks, handler, reply, flush), 16
// per batch as a pipelining client sends them.
func BenchmarkListCommands(b *testing.B) {
	for _, tc := range []struct {
		name string
		cmd  []string
	}{
		{"cmd=RPUSH+LPOP", nil},
		{"cmd=LRANGE/count=10", []string{"LRANGE", "big", "5000", "5009"}},
		{"cmd=LINDEX/len=10000", []string{"LINDEX", "big", "5000"}},
		{"cmd=LPOS/len=10000", []string{"LPOS", "big", "element:9999"}},
		{"cmd=PUBLISH/subscribers=1", []string{"PUBLISH", "news", "hello"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := benchServer(b)
			c := s.newClient(&discardConn{})
			var fill []byte
			for i := range 10000 {
				fill = resp.AppendCommandString(fill, "RPUSH", "big", "element:"+itoa(int64(i)))
			}
			runBatch(b, c, fill)
			sub := s.newClient(&discardConn{})
			runBatch(b, sub, resp.AppendCommandString(nil, "SUBSCRIBE", "news"))
			var batch []byte
			for i := 0; i < 16; i++ {
				if tc.cmd == nil {
					if i%2 == 0 {
						batch = resp.AppendCommandString(batch, "RPUSH", "q", "element")
					} else {
						batch = resp.AppendCommandString(batch, "LPOP", "q")
					}
					continue
				}
				batch = resp.AppendCommandString(batch, tc.cmd...)
			}
			b.ReportAllocs()
			for b.Loop() {
				runBatch(b, c, batch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(16*b.N), "ns/cmd")
		})
	}
}
