package zset

import (
	"fmt"
	"strconv"
	"testing"
)

func benchSet(n int) (*ZSet, [][]byte) {
	z := New(false, 0)
	members := make([][]byte, n)
	for i := range members {
		members[i] = []byte("member:" + strconv.Itoa(i))
		z.Add(members[i], float64(i*7919%n), 0, DefaultLimits)
	}
	return z, members
}

func BenchmarkSkiplist(b *testing.B) {
	for _, n := range []int{1000, 100000, 1000000} {
		z, members := benchSet(n)
		b.Run(fmt.Sprintf("op=incr/n=%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				z.Add(members[i*31%n], 1, AddIncr, DefaultLimits)
				i++
			}
		})
		b.Run(fmt.Sprintf("op=score/n=%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				z.Score(members[i*31%n])
				i++
			}
		})
		b.Run(fmt.Sprintf("op=rank/n=%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				z.Rank(members[i*31%n], false)
				i++
			}
		})
		b.Run(fmt.Sprintf("op=byrank/n=%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				z.ByRank(i * 31 % n)
				i++
			}
		})
	}
}

func BenchmarkGeoDistance(b *testing.B) {
	for _, exact := range []bool{false, true} {
		b.Run(fmt.Sprintf("exact=%v", exact), func(b *testing.B) {
			f := GeoDistance
			if exact {
				f = GeoDistanceExact
			}
			i := 0.0
			for b.Loop() {
				f(13.361389, 38.115556, 15.087269+i, 37.502669)
				i += 1e-6
			}
		})
	}
}
