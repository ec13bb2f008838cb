package store

import (
	"container/list"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"
)

// zipf draws ranks 0..n-1 with P(k) proportional to 1/(k+1)^s, any s > 0
// (math/rand's Zipf needs s > 1; cache workloads sit around 0.8..1.0).
type zipf struct {
	cdf []float64
	r   *rand.Rand
}

func newZipf(r *rand.Rand, n int, s float64) *zipf {
	z := &zipf{cdf: make([]float64, n), r: r}
	sum := 0.0
	for k := range n {
		sum += 1 / math.Pow(float64(k+1), s)
		z.cdf[k] = sum
	}
	for k := range z.cdf {
		z.cdf[k] /= sum
	}
	return z
}

func (z *zipf) next() int {
	return sort.SearchFloat64s(z.cdf, z.r.Float64())
}

// exactLRU is a textbook LRU cache of a fixed number of keys.
type exactLRU struct {
	cap int
	ll  *list.List
	m   map[int]*list.Element
}

func (c *exactLRU) access(k int) bool {
	if e, ok := c.m[k]; ok {
		c.ll.MoveToFront(e)
		return true
	}
	c.m[k] = c.ll.PushFront(k)
	if c.ll.Len() > c.cap {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.m, old.Value.(int))
	}
	return false
}

// hitRatio runs a cache-aside workload (GET; on a miss, SET and evict)
// over the keyspace with allkeys-lru and returns its hit ratio, the exact
// LRU's for the same number of keys, and that number.
func hitRatio(t *testing.T, universe, capacity, requests int, s float64, opsPerMilli int, samples int) (got, want float64, keys int) {
	ks := New(Config{Databases: 1, Shards: 16}, nil)
	db := ks.DB(0)
	val := make([]byte, 100)
	// Size maxmemory from the real cost of one entry.
	probe := New(Config{Databases: 1, Shards: 1}, nil)
	probe.DB(0).Set([]byte("key:00000000"), val, 0, SetOptions{})
	per := probe.UsedMemory()
	ks.SetMaxMemory(per * int64(capacity))
	ks.SetPolicy(AllKeysLRU)
	ks.SetSamples(samples)

	r := rand.New(rand.NewPCG(1, 2))
	z := newZipf(r, universe, s)
	lru := &exactLRU{cap: capacity, ll: list.New(), m: map[int]*list.Element{}}
	warm := requests / 5
	hits, lruHits, counted := 0, 0, 0
	keyBuf := make([]byte, 0, 16)
	now := int64(1_000_000)
	for i := range requests {
		if i%opsPerMilli == 0 {
			now++
		}
		k := z.next()
		keyBuf = append(keyBuf[:0], "key:"...)
		keyBuf = strconv.AppendInt(keyBuf, int64(10_000_000+k), 10)
		sh := db.ShardOf(keyBuf)
		sh.Lock()
		hit := db.Get(keyBuf, now) != nil
		if !hit {
			db.Set(keyBuf, val, now, SetOptions{})
		}
		sh.Unlock()
		if !hit {
			ks.Evict(now)
		}
		lruHit := lru.access(k)
		if i >= warm {
			counted++
			if hit {
				hits++
			}
			if lruHit {
				lruHits++
			}
		}
	}
	return float64(hits) / float64(counted), float64(lruHits) / float64(counted), db.Size()
}

// allkeys-lru's sampled approximation stays within a few percent of an
// exact LRU of the same size under a Zipf workload larger than maxmemory.
func TestLRUHitRatioVsExact(t *testing.T) {
	universe, capacity, requests := 100_000, 5_000, 600_000
	if testing.Short() || raceEnabled {
		universe, capacity, requests = 50_000, 2_500, 200_000
	}
	for _, tc := range []struct {
		s           float64
		opsPerMilli int
		samples     int
	}{
		{0.99, 1, 5}, {0.99, 100, 5}, {0.8, 100, 5}, {0.99, 100, 10},
	} {
		name := fmt.Sprintf("s=%.2f/ops_per_ms=%d/samples=%d", tc.s, tc.opsPerMilli, tc.samples)
		t.Run(name, func(t *testing.T) {
			got, want, keys := hitRatio(t, universe, capacity, requests, tc.s, tc.opsPerMilli, tc.samples)
			t.Logf("universe %d keys, cache %d keys (held %d): allkeys-lru hit ratio %.4f, exact LRU %.4f, difference %+.4f",
				universe, capacity, keys, got, want, got-want)
			if math.Abs(got-want) > 0.03 {
				t.Fatalf("hit ratio %.4f is not within 3 points of exact LRU's %.4f", got, want)
			}
			if keys < capacity*9/10 || keys > capacity {
				t.Fatalf("the cache held %d keys for a capacity of %d", keys, capacity)
			}
		})
	}
}
