package cached_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/anvilstack/anvil/cached"
)

// Many clients mixing single-key, multi-key, keyspace-wide and
// transactional commands, with TTLs expiring and eviction running, for a
// bounded time: nothing deadlocks (the test would hang), nothing races
// (-race), every reply is one the command can give, and the server still
// answers afterwards.
func TestConcurrentMix(t *testing.T) {
	_, addr := startCached(t, func(c *cached.Config) {
		c.MaxMemory = 200 << 10
		c.MaxMemoryPolicy = "allkeys-lru"
		c.Hz = 100
	})
	duration := 1500 * time.Millisecond
	if testing.Short() {
		duration = 300 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2 + w%2, DisableIdentity: true, MaxRetries: -1, PoolSize: 1})
			defer rdb.Close()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			key := func() string { return fmt.Sprintf("k%d", r.IntN(200)) }
			val := strings.Repeat("x", 10+r.IntN(2000))
			for ctx.Err() == nil {
				var err error
				switch op := r.IntN(16); op {
				case 0, 1, 2:
					err = rdb.Set(ctx, key(), val, 0).Err()
				case 3:
					err = rdb.Set(ctx, key(), val, time.Duration(1+r.IntN(50))*time.Millisecond).Err()
				case 4, 5, 6:
					err = rdb.Get(ctx, key()).Err()
				case 7:
					err = rdb.MSet(ctx, key(), "1", key(), "2", key(), "3").Err()
				case 8:
					err = rdb.Del(ctx, key(), key()).Err()
				case 9:
					err = rdb.Rename(ctx, key(), key()).Err()
				case 10:
					_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Incr(ctx, "ctr")
						p.Set(ctx, key(), val, 0)
						p.Get(ctx, key())
						return nil
					})
				case 11:
					err = rdb.Watch(ctx, func(tx *redis.Tx) error {
						_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
							p.Set(ctx, "watched", w, 0)
							return nil
						})
						return err
					}, "watched", key())
				case 12:
					_, _, err = rdb.Scan(ctx, 0, "k1*", 50).Result()
				case 13:
					err = rdb.Keys(ctx, "k2*").Err()
				case 14:
					err = rdb.Copy(ctx, key(), key(), 1+r.IntN(3), true).Err()
				case 15:
					if r.IntN(20) == 0 {
						err = rdb.Do(ctx, "SWAPDB", 0, 1).Err()
					} else {
						err = rdb.Move(ctx, key(), 2).Err()
					}
				}
				if err != nil && err != redis.Nil && err != redis.TxFailedErr && ctx.Err() == nil &&
					!strings.Contains(err.Error(), "no such key") && !strings.Contains(err.Error(), "value is not an integer") &&
					!strings.Contains(err.Error(), "source and destination objects are the same") {
					select {
					case errs <- fmt.Errorf("op error: %w", err):
					default:
					}
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(duration + 20*time.Second):
		t.Fatal("clients stuck: deadlock?")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	rdb := newClient(t, addr, 3)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	info := rdb.Info(context.Background(), "memory", "stats").Val()
	if !strings.Contains(info, "evicted_keys:") {
		t.Fatalf("INFO: %s", info)
	}
	t.Logf("after the mix: %s", strings.Join(grepLines(info, "used_memory:", "evicted_keys:", "expired_keys:"), " "))
}

func grepLines(s string, prefixes ...string) []string {
	var out []string
	for _, l := range strings.Split(s, "\r\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return out
}

// KEYS is atomic, as Redis's is: while other connections keep renaming
// keys back and forth (between shards), every KEYS reply holds each of
// them exactly once. Served by a goroutine per connection, so the
// commands really run at the same time.
func TestKeysAtomic(t *testing.T) {
	_, addr := startCached(t, func(c *cached.Config) { c.EventLoops = 0 })
	rdb := newClient(t, addr, 2)
	const pairs = 8
	for i := range pairs {
		ok(t, rdb.Set(ctx, fmt.Sprintf("ren:%d:a", i), "v", 0))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, pairs)
	for i := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(t, addr, 2)
			a, b := fmt.Sprintf("ren:%d:a", i), fmt.Sprintf("ren:%d:b", i)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := c.Rename(ctx, a, b).Err(); err != nil {
					errs <- err
					return
				}
				a, b = b, a
			}
		}()
	}
	deadline := time.Now().Add(time.Second)
	calls := 0
	for ; time.Now().Before(deadline) || calls < 200; calls++ {
		keys := ok(t, rdb.Keys(ctx, "ren:*")).Val()
		if len(keys) != pairs {
			close(stop)
			wg.Wait()
			t.Fatalf("KEYS call %d returned %d keys, want %d: %v", calls, len(keys), pairs, keys)
		}
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatalf("RENAME: %v", err)
	default:
	}
	t.Logf("%d KEYS calls, each with all %d keys", calls, pairs)
}
