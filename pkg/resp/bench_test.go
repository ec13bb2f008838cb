package resp

import (
	"bytes"
	"fmt"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	for _, size := range []int{16, 1024} {
		b.Run(fmt.Sprintf("value=%d", size), func(b *testing.B) {
			var in []byte
			for range 16 {
				in = AppendCommandString(in, "SET", "key:000001", string(bytes.Repeat([]byte("x"), size)))
				in = AppendCommandString(in, "GET", "key:000001")
			}
			var p Parser
			src := bytes.NewReader(in)
			out := make([]byte, 0, 64<<10)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				src.Reset(in)
				out = out[:0]
				for src.Len() > 0 {
					if _, err := p.Fill(src); err != nil {
						b.Fatal(err)
					}
					for {
						args, err := p.Next()
						if err != nil {
							b.Fatal(err)
						}
						if args == nil {
							break
						}
						if len(args) == 3 {
							out = append(out, OK...)
						} else {
							out = AppendBulk(out, args[1])
						}
					}
				}
			}
		})
	}
}
