package kvd

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/daemontest"
)

func testConfig(t testing.TB) Config {
	cfg := daemontest.Config(t, Spec())
	cfg.Shards = 4
	// short enough for quick failovers, long enough that a test machine
	// busy with -race and other packages does not depose leaders
	cfg.Tuning.HeartbeatTimeout = 200 * time.Millisecond
	cfg.Tuning.ElectionTimeout = 200 * time.Millisecond
	cfg.Tuning.LeaderLeaseTimeout = 150 * time.Millisecond
	cfg.RequestTimeout = 3 * time.Second
	return cfg
}

// The contract's table, on a one-node cluster.
func TestAPIOneNode(t *testing.T) {
	d := daemontest.Start(t, Spec(), testConfig(t))
	c := newKVC(t, d.Endpoint("api"))

	r := c.put("a/b c", "hello", "")
	if r.status != 200 {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	rev1 := r.revision(t)
	if rev1 < 1 {
		t.Fatalf("revision %d", rev1)
	}
	r = c.get("a/b c", "")
	if r.status != 200 || string(r.body) != "hello" || r.revision(t) != rev1 {
		t.Fatalf("get: %d %q rev %s", r.status, r.body, r.hdr.Get("Kv-Revision"))
	}
	if r = c.get("a/b c", "?consistency=stale"); r.status != 200 || string(r.body) != "hello" {
		t.Fatalf("stale get: %d %q", r.status, r.body)
	}
	// compare-and-set
	if r = c.put("a/b c", "x", fmt.Sprintf("?prev_revision=%d", rev1+100)); r.status != 412 || r.revision(t) != rev1 {
		t.Fatalf("cas at a wrong revision: %d %s", r.status, r.body)
	}
	r = c.put("a/b c", "world", fmt.Sprintf("?prev_revision=%d", rev1))
	rev2 := r.revision(t)
	if r.status != 200 || rev2 <= rev1 {
		t.Fatalf("cas: %d %s", r.status, r.body)
	}
	if r = c.put("new", "1", "?prev_revision=0"); r.status != 200 {
		t.Fatalf("create-only on an absent key: %d %s", r.status, r.body)
	}
	if r = c.put("new", "2", "?prev_revision=0"); r.status != 412 {
		t.Fatalf("create-only on an existing key: %d %s", r.status, r.body)
	}
	// delete
	if r = c.del("a/b c", "?prev_revision=1"); r.status != 412 || r.revision(t) != rev2 {
		t.Fatalf("conditional delete at a wrong revision: %d %s", r.status, r.body)
	}
	r = c.del("a/b c", "")
	if m := r.json(t); r.status != 200 || m["deleted"] != true || r.revision(t) <= rev2 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r = c.get("a/b c", ""); r.status != 404 || !strings.Contains(string(r.body), `"error"`) {
		t.Fatalf("get after delete: %d %s", r.status, r.body)
	}
	if r = c.del("a/b c", ""); r.status != 200 || r.json(t)["deleted"] != false {
		t.Fatalf("delete of an absent key: %d %s", r.status, r.body)
	}
	if r = c.del("gone", "?prev_revision=3"); r.status != 412 || r.revision(t) != 0 {
		t.Fatalf("conditional delete of an absent key: %d %s", r.status, r.body)
	}
	// keys that a cleaning router would mangle
	for _, k := range []string{"x//y", "../up", "q?s", "sp ace", "ü", "%41"} {
		if r = c.put(k, "v:"+k, ""); r.status != 200 {
			t.Fatalf("put %q: %d %s", k, r.status, r.body)
		}
		if r = c.get(k, ""); r.status != 200 || string(r.body) != "v:"+k {
			t.Fatalf("get %q: %d %s", k, r.status, r.body)
		}
	}
}

func TestAPIBadRequests(t *testing.T) {
	d := daemontest.Start(t, Spec(), testConfig(t))
	c := newKVC(t, d.Endpoint("api"))
	long := strings.Repeat("k", 1025)
	cases := []struct {
		method, path string
		body         []byte
		status       int
	}{
		{"PUT", "/v1/kv/", []byte("v"), 400},
		{"PUT", "/v1/kv/" + long, []byte("v"), 400},
		{"PUT", "/v1/kv/k", make([]byte, 1<<20+1), 400},
		{"PUT", "/v1/kv/k?prev_revision=-1", nil, 400},
		{"PUT", "/v1/kv/k?prev_revision=abc", nil, 400},
		{"PUT", "/v1/kv/k?ttl=soon", nil, 400},
		{"PUT", "/v1/kv/k?ttl=-5s", nil, 400},
		{"PUT", "/v1/kv/k?colour=red", nil, 400},
		{"GET", "/v1/kv/k?consistency=eventual", nil, 400},
		{"GET", "/v1/kv/?limit=0", nil, 400},
		{"POST", "/v1/kv/k", nil, 405},
		{"GET", "/nothing", nil, 404},
	}
	for _, tc := range cases {
		r := c.do(tc.method, tc.path, tc.body)
		if r.status != tc.status || !strings.Contains(string(r.body), `"error"`) {
			t.Errorf("%s %.40s: %d %.100s, want %d with a JSON error", tc.method, tc.path, r.status, r.body, tc.status)
		}
	}
	// exactly 1 MiB and 1024 bytes are fine
	if r := c.do("PUT", "/v1/kv/"+long[:1024], make([]byte, 1<<20)); r.status != 200 {
		t.Fatalf("max key and value: %d %s", r.status, r.body)
	}
}

func TestScanAcrossShards(t *testing.T) {
	d := daemontest.Start(t, Spec(), testConfig(t))
	c := newKVC(t, d.Endpoint("api"))
	for i := 0; i < 50; i++ {
		if r := c.put(fmt.Sprintf("user/%03d", i), fmt.Sprint(i), ""); r.status != 200 {
			t.Fatal(r.status)
		}
	}
	c.put("other", "x", "")
	var got []string
	after := ""
	for page := 0; page < 10; page++ {
		r := c.do("GET", "/v1/kv/?prefix=user/&limit=20&start_after="+after, nil)
		if r.status != 200 {
			t.Fatalf("scan: %d %s", r.status, r.body)
		}
		m := r.json(t)
		items := m["items"].([]any)
		for _, it := range items {
			e := it.(map[string]any)
			v, _ := base64.StdEncoding.DecodeString(e["value"].(string))
			if e["revision"].(float64) < 1 || !strings.HasSuffix(e["key"].(string), string(v)) && fmt.Sprintf("user/%03s", v) != e["key"] {
				t.Fatalf("item %v", e)
			}
			got = append(got, e["key"].(string))
			after = e["key"].(string)
		}
		if m["more"] != true {
			break
		}
	}
	if len(got) != 50 {
		t.Fatalf("scan returned %d keys, want 50", len(got))
	}
	for i, k := range got {
		if k != fmt.Sprintf("user/%03d", i) {
			t.Fatalf("key %d is %q: not in order", i, k)
		}
	}
}

func TestTTLExpires(t *testing.T) {
	d := daemontest.Start(t, Spec(), testConfig(t))
	c := newKVC(t, d.Endpoint("api"))
	if r := c.put("session", "s", "?ttl=300ms"); r.status != 200 {
		t.Fatalf("put with ttl: %d %s", r.status, r.body)
	}
	c.put("forever", "f", "")
	if r := c.get("session", ""); r.status != 200 {
		t.Fatalf("expired at once: %d", r.status)
	}
	poll(t, 5*time.Second, "the key to expire", func() bool { return c.get("session", "").status == http.StatusNotFound })
	if r := c.get("forever", ""); r.status != 200 {
		t.Fatalf("key without ttl: %d", r.status)
	}
}
