package collection

import (
	"math/rand/v2"
	"slices"
	"unsafe"

	"github.com/anvilstack/anvil/cached/store"
)

// Limits are the encoding thresholds (Redis's config parameters of the
// same names). A command reads them once and passes them to the methods
// that may convert a value.
type Limits struct {
	HashMaxListpackEntries int64 // hash-max-listpack-entries
	HashMaxListpackValue   int64 // hash-max-listpack-value
	SetMaxIntsetEntries    int64 // set-max-intset-entries
}

// DefaultLimits are Redis 7.0's defaults (without a config file).
func DefaultLimits() Limits {
	return Limits{HashMaxListpackEntries: 512, HashMaxListpackValue: 64, SetMaxIntsetEntries: 512}
}

// maxIntset caps set-max-intset-entries as Redis does (intset internals).
const maxIntset = 1 << 30

func allocSize(n int) int { return store.AllocSize(n) }

// strMem is what a string of n bytes costs (no allocation when empty).
func strMem(n int) int { return store.AllocSize(n) }

// bytesOf views s as bytes without copying: read-only.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// stringOf views b as a string without copying, for lookups only.
func stringOf(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// SamplePositions returns count distinct positions in [0, n), uniformly
// chosen, in random order (count <= n). Memory is O(count) when count is a
// small part of n and O(n) otherwise (n < 4*count).
func SamplePositions(n, count int) []int {
	if count >= n {
		p := make([]int, n)
		for i := range p {
			p[i] = i
		}
		rand.Shuffle(n, func(i, j int) { p[i], p[j] = p[j], p[i] })
		return p
	}
	if count*4 >= n {
		// Partial Fisher-Yates over every position.
		p := make([]int, n)
		for i := range p {
			p[i] = i
		}
		for i := 0; i < count; i++ {
			j := i + rand.IntN(n-i)
			p[i], p[j] = p[j], p[i]
		}
		return p[:count:count]
	}
	// Floyd's algorithm: count draws, each adding one new position.
	seen := make(map[int]struct{}, count)
	out := make([]int, 0, count)
	for j := n - count; j < n; j++ {
		t := rand.IntN(j + 1)
		if _, dup := seen[t]; dup {
			t = j
		}
		seen[t] = struct{}{}
		out = append(out, t)
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// shrinkStrings gives back the memory of a string slice that emptied out.
func shrinkStrings(s []string) []string {
	if c := cap(s); c > 64 && len(s) < c/4 {
		return slices.Clone(s)
	}
	return s
}
