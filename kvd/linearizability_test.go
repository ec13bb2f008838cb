package kvd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// kvCaller makes one recorded call against an API address and classifies
// the reply for the model: a definite answer, or unknown (timeout, cut
// connection, 5xx). A read that failed has no effect and is dropped.
type kvCaller struct {
	hc *http.Client
}

func newKVCaller(timeout time.Duration) *kvCaller {
	return &kvCaller{hc: &http.Client{Timeout: timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
}

func (c *kvCaller) call(ctx context.Context, addr string, in kvInput) (kvOutput, bool) {
	u := "http://" + addr + keyPath(in.key)
	var method string
	var body io.Reader
	switch in.kind {
	case opGet:
		method = "GET"
	case opPut:
		method, body = "PUT", bytes.NewReader([]byte(in.value))
	case opCAS:
		method, body = "PUT", bytes.NewReader([]byte(in.value))
		u += "?prev_revision=" + strconv.FormatUint(in.prev, 10)
	case opDel:
		method = "DELETE"
	case opDelIf:
		method = "DELETE"
		u += "?prev_revision=" + strconv.FormatUint(in.prev, 10)
	}
	req, _ := http.NewRequestWithContext(ctx, method, u, body)
	resp, err := c.hc.Do(req)
	if err != nil {
		return kvOutput{unknown: true}, in.kind != opGet
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode >= 500 {
		return kvOutput{unknown: true}, in.kind != opGet
	}
	var j struct {
		Revision uint64 `json:"revision"`
		Deleted  bool   `json:"deleted"`
	}
	switch {
	case in.kind == opGet && resp.StatusCode == 200:
		rev, _ := strconv.ParseUint(resp.Header.Get("Kv-Revision"), 10, 64)
		return kvOutput{found: true, value: string(b), rev: rev}, true
	case in.kind == opGet && resp.StatusCode == 404:
		return kvOutput{found: false}, true
	case resp.StatusCode == 200 || resp.StatusCode == 412:
		if err := json.Unmarshal(b, &j); err != nil {
			return kvOutput{unknown: true}, true
		}
		return kvOutput{ok: resp.StatusCode == 200, rev: j.Revision, deleted: j.Deleted}, true
	}
	// anything else is a protocol error: record it as impossible
	return kvOutput{found: true, value: fmt.Sprintf("unexpected HTTP %d %s", resp.StatusCode, b)}, true
}

// workload runs clients against addrs until stop, recording every call.
// Each client picks among keys and operations at random; CAS and
// conditional deletes use the last revision that client saw.
func workload(stop <-chan struct{}, clients int, keys []string, addrs func() []string, h *history, opTimeout time.Duration) *sync.WaitGroup {
	var wg sync.WaitGroup
	for cl := 0; cl < clients; cl++ {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(cl), uint64(time.Now().UnixNano())))
			caller := newKVCaller(opTimeout)
			lastRev := map[string]uint64{}
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				as := addrs()
				addr := as[r.IntN(len(as))]
				key := keys[r.IntN(len(keys))]
				in := kvInput{key: key}
				switch p := r.IntN(100); {
				case p < 45:
					in.kind = opGet
				case p < 75:
					in.kind, in.value = opPut, fmt.Sprintf("c%d.%d", cl, seq)
				case p < 90:
					in.kind, in.value, in.prev = opCAS, fmt.Sprintf("c%d.%d", cl, seq), lastRev[key]
				case p < 95:
					in.kind = opDel
				default:
					in.kind, in.prev = opDelIf, lastRev[key]
				}
				call := h.now()
				ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
				out, keep := caller.call(ctx, addr, in)
				cancel()
				if keep {
					h.add(cl, in, out, call)
				}
				if !out.unknown && out.rev > 0 {
					lastRev[key] = out.rev
				}
				if out.unknown {
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	return &wg
}

// checkHistory fails the test unless porcupine finds the history
// linearizable; a violation is written out as porcupine's visualization.
func checkHistory(t *testing.T, ops []porcupine.Operation) {
	t.Helper()
	unknown := 0
	for _, op := range ops {
		if op.Output.(kvOutput).unknown {
			unknown++
		}
	}
	res, info := porcupine.CheckOperationsVerbose(kvModel, ops, 60*time.Second)
	t.Logf("history: %d operations, %d with unknown outcome; porcupine: %s", len(ops), unknown, res)
	switch res {
	case porcupine.Illegal:
		path := filepath.Join(os.TempDir(), fmt.Sprintf("kvd-violation-%d.html", time.Now().UnixNano()))
		if f, err := os.Create(path); err == nil {
			_ = porcupine.Visualize(kvModel, info, f)
			f.Close()
		}
		// name the key(s) at fault, with their histories in call order
		byKey := map[string][]porcupine.Operation{}
		for _, op := range ops {
			byKey[op.Input.(kvInput).key] = append(byKey[op.Input.(kvInput).key], op)
		}
		for key, kops := range byKey {
			if porcupine.CheckOperations(kvModel, kops) {
				continue
			}
			sort.Slice(kops, func(i, j int) bool { return kops[i].Call < kops[j].Call })
			var b strings.Builder
			for _, op := range kops {
				fmt.Fprintf(&b, "  [%6d,%6d] c%d %s\n", op.Call, op.Return, op.ClientId, kvModel.DescribeOperation(op.Input, op.Output))
			}
			if len(b.String()) > 20000 {
				t.Logf("key %q is not linearizable; its history is in %s", key, path)
			} else {
				t.Logf("key %q is not linearizable:\n%s", key, b.String())
			}
		}
		t.Fatalf("history is NOT linearizable (visualization: %s)", path)
	case porcupine.Unknown:
		t.Fatalf("porcupine could not decide within its timeout; shorten the run")
	}
}

// Linearizability under partitions: clients call every node while a nemesis
// isolates a shard leader or a random node and heals, over and over.
// LINEARIZABILITY_LONG=1 runs for a minute instead of a few seconds.
func TestLinearizableUnderPartitions(t *testing.T) {
	dur := 4 * time.Second
	if testing.Short() {
		dur = 2 * time.Second
	}
	if os.Getenv("KVD_NEMESIS_LONG") != "" {
		dur = time.Minute
	}
	c := startCluster(t, 3, 2, func(i int, cfg *Config) { cfg.RequestTimeout = time.Second })
	h := &history{}
	stop := make(chan struct{})
	addrs := func() []string { return []string{c.api(0), c.api(1), c.api(2)} }
	wg := workload(stop, 6, []string{"a", "b", "c", "d"}, addrs, h, 1500*time.Millisecond)
	r := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	faults := 0
	for end := time.Now().Add(dur); time.Now().Before(end); {
		time.Sleep(time.Duration(200+r.IntN(300)) * time.Millisecond)
		victim := r.IntN(3)
		if r.IntN(2) == 0 {
			if l := c.leaderOf(r.IntN(2)); l >= 0 {
				victim = l
			}
		}
		c.net.isolate(victim, 3)
		faults++
		time.Sleep(time.Duration(200+r.IntN(400)) * time.Millisecond)
		c.net.heal()
	}
	close(stop)
	wg.Wait()
	t.Logf("%d partitions", faults)
	checkHistory(t, h.operations())
}
