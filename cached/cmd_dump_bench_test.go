package cached

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/anvilstack/anvil/pkg/resp"
)

// Benchmarks of the bitmap, HyperLogLog, SORT and DUMP/RESTORE commands
// through the whole command path (parse, dispatch, handler, reply), no
// network: go test -run XXX -bench 'Bitmap|HLL|Sort|Dump' ./cached
func benchFamily(b *testing.B, setup [][]string, cmd []string) {
	s := benchServer(b)
	c := s.newClient(&discardConn{})
	for _, a := range setup {
		runBatch(b, c, resp.AppendCommandString(nil, a...))
	}
	batch := resp.AppendCommandString(nil, cmd...)
	b.ReportAllocs()
	for b.Loop() {
		runBatch(b, c, batch)
	}
}

func BenchmarkBitmap(b *testing.B) {
	val := strings.Repeat("\x5a\xff\x00\x81", 256) // 1 KB
	setup := [][]string{{"SET", "k", val}}
	for _, tc := range []struct {
		name string
		cmd  []string
	}{
		{"SETBIT", []string{"SETBIT", "k", "4000", "1"}},
		{"GETBIT", []string{"GETBIT", "k", "4000"}},
		{"BITCOUNT", []string{"BITCOUNT", "k"}},
		{"BITCOUNT-bits", []string{"BITCOUNT", "k", "3", "8000", "BIT"}},
		{"BITPOS", []string{"BITPOS", "k", "0", "1"}},
		{"BITFIELD", []string{"BITFIELD", "k", "INCRBY", "u16", "#10", "1", "GET", "i32", "100"}},
	} {
		b.Run("cmd="+tc.name+"/value=1024", func(b *testing.B) { benchFamily(b, setup, tc.cmd) })
	}
}

func BenchmarkHLL(b *testing.B) {
	dense := []string{"PFADD", "d"}
	for i := 0; i < 20000; i++ {
		dense = append(dense, strconv.Itoa(i))
	}
	for _, tc := range []struct {
		name  string
		setup [][]string
		cmd   []string
	}{
		{"PFADD/encoding=sparse", [][]string{{"PFADD", "s", "a", "b", "c"}}, []string{"PFADD", "s", "a"}},
		{"PFADD/encoding=dense", [][]string{dense}, []string{"PFADD", "d", "x"}},
		{"PFCOUNT/encoding=dense", [][]string{dense}, []string{"PFCOUNT", "d"}},
		{"PFCOUNT-union/encoding=dense", [][]string{dense, {"PFADD", "s", "a"}}, []string{"PFCOUNT", "d", "s"}},
	} {
		b.Run("cmd="+tc.name, func(b *testing.B) { benchFamily(b, tc.setup, tc.cmd) })
	}
}

func BenchmarkSort(b *testing.B) {
	push := []string{"RPUSH", "l"}
	var setup [][]string
	for i := 0; i < 100; i++ {
		push = append(push, strconv.Itoa(i*7919%1000))
		setup = append(setup, []string{"SET", "w_" + strconv.Itoa(i*7919%1000), strconv.Itoa(i)})
	}
	setup = append(setup, push)
	for _, cmd := range [][]string{{"SORT", "l"}, {"SORT", "l", "ALPHA", "LIMIT", "0", "10"}, {"SORT", "l", "BY", "w_*", "GET", "#"}} {
		b.Run(fmt.Sprintf("cmd=%s/elements=100", strings.Join(cmd[2:], "_")), func(b *testing.B) { benchFamily(b, setup, cmd) })
	}
}

func BenchmarkDump(b *testing.B) {
	hset := []string{"HSET", "h"}
	for i := 0; i < 100; i++ {
		hset = append(hset, "field"+strconv.Itoa(i), strings.Repeat("v", i%20))
	}
	setup := [][]string{hset, {"SET", "s", strings.Repeat("compressible ", 100)}}
	for _, k := range []string{"h", "s"} {
		b.Run("cmd=DUMP/key="+k, func(b *testing.B) { benchFamily(b, setup, []string{"DUMP", k}) })
		b.Run("cmd=RESTORE/key="+k, func(b *testing.B) {
			s := benchServer(b)
			c := s.newClient(&captureConn{})
			for _, a := range setup {
				runBatch(b, c, resp.AppendCommandString(nil, a...))
			}
			conn := c.conn.(*captureConn)
			conn.out.Reset()
			runBatch(b, c, resp.AppendCommandString(nil, "DUMP", k))
			v, err := resp.NewReader(&conn.out).ReadValue()
			if err != nil {
				b.Fatal(err)
			}
			batch := resp.AppendCommandString(nil, "RESTORE", "dst", "0", string(v.Str), "REPLACE")
			b.ReportAllocs()
			for b.Loop() {
				runBatch(b, c, batch)
			}
		})
	}
}
