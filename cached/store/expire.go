package store

import "time"

// Active expiry, as Redis does it: sample keys with a TTL and delete the
// expired ones, repeating while many of a sample were expired, within a
// time budget, so that memory of expired keys is reclaimed without reads.
const (
	expireSample     = 20 // keys sampled per round in a shard
	expireStalePct   = 10 // repeat a shard while more than this % of a sample expired
	expireMaxRepeats = 16 // rounds per shard per cycle
)

// ActiveExpireCycle runs one cycle over every shard that has keys with a
// TTL, starting where the last cycle stopped, until budget is used up.
// It locks one shard at a time and returns the number of keys deleted.
func (ks *Keyspace) ActiveExpireCycle(now int64, budget time.Duration) int {
	start := time.Now()
	total := len(ks.dbs) * ks.shards
	expired := 0
	for n := 0; n < total; n++ {
		pos := ks.expireCursor % total
		ks.expireCursor = (pos + 1) % total
		sh := &ks.dbs[pos/ks.shards].shards[pos%ks.shards]
		sh.mu.Lock()
		for round := 0; round < expireMaxRepeats && len(sh.volatile) > 0; round++ {
			sampled, hit := 0, 0
			if len(sh.volatile) <= expireSample {
				// A small set is checked whole, from the end so that
				// removals do not skip entries.
				for i := len(sh.volatile) - 1; i >= 0; i-- {
					sampled++
					if e := sh.volatile[i]; e.expire <= now {
						sh.expireEntry(e)
						hit++
					}
				}
			} else {
				for range expireSample {
					if len(sh.volatile) == 0 {
						break
					}
					sampled++
					e := sh.volatile[ks.rand(len(sh.volatile))]
					if e.expire <= now {
						sh.expireEntry(e)
						hit++
					}
				}
			}
			expired += hit
			if hit*100 <= sampled*expireStalePct {
				break
			}
		}
		sh.mu.Unlock()
		if n&15 == 15 && time.Since(start) > budget {
			ks.expiredStale.Add(1)
			break
		}
	}
	return expired
}
