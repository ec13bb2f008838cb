package raftstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/logging"
)

// Calls reach the peer's handler and bring its reply back, many at once on
// one connection; a service without a handler is reported as not sent; a
// call cut with its session has an unknown outcome (not "not sent"); a
// caller that gives up gets its context's error; Close waits for running
// handlers and ends their context.
func TestCalls(t *testing.T) {
	log := logging.Discard()
	server, err := Listen("127.0.0.1:0", nil, log)
	if err != nil {
		t.Fatal(err)
	}
	var cc conns
	client, err := Listen("127.0.0.1:0", cc.dial, log)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	release := make(chan struct{})
	entered := make(chan struct{}, 16)
	handlerDone := make(chan error, 16)
	server.Handle(1, func(_ context.Context, req []byte) []byte {
		return append([]byte("echo:"), req...)
	})
	server.Handle(2, func(ctx context.Context, req []byte) []byte {
		entered <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
			handlerDone <- ctx.Err()
		}
		return []byte("late")
	})
	addr := server.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			req := bytes.Repeat([]byte{byte(i)}, i*97)
			resp, err := client.Call(ctx, addr, 1, req)
			if err != nil || !bytes.Equal(resp, append([]byte("echo:"), req...)) {
				t.Errorf("call %d: %d bytes, %v", i, len(resp), err)
			}
		})
	}
	wg.Wait()
	cc.mu.Lock()
	if len(cc.cs) != 1 {
		t.Fatalf("%d connections for 200 calls, want 1", len(cc.cs))
	}
	cc.mu.Unlock()

	var ns *NotSentError
	if _, err := client.Call(ctx, addr, 9, []byte("x")); !errors.As(err, &ns) {
		t.Fatalf("call to a service without handler: %v, want NotSentError", err)
	}

	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = client.Call(short, addr, 2, nil)
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ns) {
		t.Fatalf("call past its deadline: %v", err)
	}
	<-entered

	cut := make(chan error, 1)
	go func() {
		_, err := client.Call(ctx, addr, 2, nil)
		cut <- err
	}()
	<-entered
	cc.cut()
	if err := <-cut; err == nil || errors.As(err, &ns) {
		t.Fatalf("call on a cut session: %v, want an unknown outcome", err)
	}

	// The handlers are still waiting; Close ends their context and waits.
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case err := <-handlerDone:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("handler context: %v", err)
			}
		default:
			t.Fatal("Close returned before its handlers")
		}
	}
	close(release)
	if _, err := client.Call(ctx, addr, 1, nil); !errors.As(err, &ns) {
		t.Fatalf("call to a closed mux: %v, want NotSentError", err)
	}
}

// BenchmarkCall measures a small call's round trip with many callers.
func BenchmarkCall(b *testing.B) {
	log := logging.Discard()
	server, err := Listen("127.0.0.1:0", nil, log)
	if err != nil {
		b.Fatal(err)
	}
	defer server.Close()
	client, err := Listen("127.0.0.1:0", nil, log)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	server.Handle(1, func(_ context.Context, req []byte) []byte { return req })
	addr := server.Addr().String()
	for _, size := range []int{64, 4096} {
		b.Run(fmt.Sprintf("bytes=%d", size), func(b *testing.B) {
			req := make([]byte, size)
			b.SetParallelism(16)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := client.Call(context.Background(), addr, 1, req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
