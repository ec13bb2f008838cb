package kvd

import (
	"net/http"
	"testing"
)

// Request parsing never panics, and what it accepts is within the
// contract's limits.
func FuzzParseKV(f *testing.F) {
	f.Add("PUT", "a%2Fb", "prev_revision=3&ttl=30s", []byte("value"))
	f.Add("GET", "k", "consistency=stale", []byte(nil))
	f.Add("GET", "", "prefix=user%2F&start_after=user%2F9&limit=10", []byte(nil))
	f.Add("DELETE", "%zz", "prev_revision=-1", []byte(nil))
	f.Add("PUT", "k", "ttl=5", []byte{})
	f.Fuzz(func(t *testing.T, method, key, query string, body []byte) {
		req, err := parseKV(method, key, query, body)
		if err != nil {
			if _, ok := err.(*apiError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if !req.scan && (len(req.key) == 0 || len(req.key) > 1024) {
			t.Fatalf("accepted a key of %d bytes", len(req.key))
		}
		if len(req.value) > 1<<20 {
			t.Fatalf("accepted a value of %d bytes", len(req.value))
		}
		if req.scan && (req.limit < 1 || req.limit > maxScanLimit || method != http.MethodGet) {
			t.Fatalf("scan with limit %d method %s", req.limit, method)
		}
		if req.ttl < 0 {
			t.Fatalf("negative ttl")
		}
	})
}
