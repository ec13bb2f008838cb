package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/anvilstack/anvil/kvd"
	"github.com/anvilstack/anvil/kvd/client"
	"github.com/anvilstack/anvil/pkg/daemontest"
)

func start(t *testing.T) string {
	cfg := daemontest.Config(t, kvd.Spec())
	cfg.Shards = 2
	cfg.Tuning.HeartbeatTimeout = 100 * time.Millisecond
	cfg.Tuning.ElectionTimeout = 100 * time.Millisecond
	cfg.Tuning.LeaderLeaseTimeout = 50 * time.Millisecond
	return daemontest.Start(t, kvd.Spec(), cfg).Endpoint("api")
}

func TestClient(t *testing.T) {
	addr := start(t)
	// a dead endpoint first: safe requests and never-sent writes move on
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	c, err := client.New([]string{dead, "http://" + addr + "/"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	rev, err := c.Put(ctx, "a/1", []byte("one"))
	if err != nil || rev == 0 {
		t.Fatalf("put: %d %v", rev, err)
	}
	it, err := c.Get(ctx, "a/1")
	if err != nil || string(it.Value) != "one" || it.Revision != rev {
		t.Fatalf("get: %+v %v", it, err)
	}
	if _, err := c.Get(ctx, "a/1", client.Stale()); err != nil {
		t.Fatal(err)
	}
	_, err = c.Put(ctx, "a/1", []byte("x"), client.IfRevision(rev+7))
	var ce *client.Error
	if !client.IsPreconditionFailed(err) || !errors.As(err, &ce) || ce.Revision != rev {
		t.Fatalf("cas mismatch: %v", err)
	}
	if _, err := c.Put(ctx, "a/2", []byte("two"), client.IfRevision(0), client.TTL(time.Hour)); err != nil {
		t.Fatal(err)
	}
	items, more, err := c.Scan(ctx, client.ScanOptions{Prefix: "a/", Limit: 1})
	if err != nil || !more || len(items) != 1 || items[0].Key != "a/1" || string(items[0].Value) != "one" {
		t.Fatalf("scan: %+v %v %v", items, more, err)
	}
	if _, deleted, err := c.Delete(ctx, "a/1", client.IfRevision(rev)); err != nil || !deleted {
		t.Fatalf("delete: %v %v", deleted, err)
	}
	if _, err := c.Get(ctx, "a/1"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := c.Cluster(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "", []byte("x")); err == nil || client.IsUnknown(err) {
		t.Fatalf("empty key: %v, want a definite 400", err)
	}
	for i := 0; i < 20; i++ { // spread over both endpoints
		if _, err := c.Put(ctx, fmt.Sprint("k", i), []byte("v")); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
}
