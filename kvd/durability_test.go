package kvd

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/daemontest"
	"github.com/anvilstack/anvil/pkg/pebblestore"
)

// Power loss: the database lives on pebble's crashable in-memory file
// system; after acknowledged writes, the machine "loses power" (only what
// was fsynced survives) and a node started on what is left serves every
// acknowledged write.
func TestPowerLossKeepsAcknowledgedWrites(t *testing.T) {
	fs := pebblestore.NewCrashableFS()
	cfg := testConfig(t)
	cfg.Shards = 2
	d, err := SpecWith(Options{FS: fs}).Build(cfg, slog.New(slog.DiscardHandler), new(slog.LevelVar), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	daemontest.WaitReady(t, d.AdminAddr().String(), "", 30*time.Second)
	cl := newKVC(t, d.Endpoint("api"))
	acked := map[string]uint64{}
	for i := 0; i < 50; i++ {
		k := fmt.Sprint("k", i)
		acked[k] = cl.mustPut(k, "v"+k)
	}
	crashed := fs.CrashClone()                      // the power goes out here
	if err := d.Shutdown(t.Context()); err != nil { // (frees the ports and snapshot directories)
		t.Fatal(err)
	}

	cfg2 := cfg
	cfg2.Listen, cfg2.Raft, cfg2.Gossip, cfg2.Admin.Listen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	spec := SpecWith(Options{FS: crashed})
	d2, err := spec.Build(cfg2, slog.New(slog.DiscardHandler), new(slog.LevelVar), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err = d2.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer d2.Shutdown(t.Context())
	daemontest.WaitReady(t, d2.AdminAddr().String(), "", 30*time.Second)
	c2 := newKVC(t, d2.Endpoint("api"))
	for k, rev := range acked {
		var r reply
		poll(t, 10*time.Second, "a read of "+k, func() bool { r = c2.get(k, ""); return r.status != 503 })
		if r.status != 200 || string(r.body) != "v"+k || r.revision(t) != rev {
			t.Fatalf("after power loss %s@%d: %d %q rev %s", k, rev, r.status, r.body, r.hdr.Get("Kv-Revision"))
		}
	}
}
