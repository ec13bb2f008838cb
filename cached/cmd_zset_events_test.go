package cached

import (
	"slices"
	"testing"
	"time"

	"github.com/anvilstack/anvil/cached/collection"
)

// TestZSetGeoEvents checks the keyspace events (Redis's names, in Redis's
// order) and the key modifications WATCH and tracking see, for the sorted
// set and geo commands.
func TestZSetGeoEvents(t *testing.T) {
	l, c := startWithEventLog(t)
	for _, step := range []struct {
		cmd      []string
		events   []string
		modified []string
	}{
		{[]string{"ZADD", "z", "1", "a", "2", "b", "3", "c"}, []string{"zadd z"}, []string{"z"}},
		{[]string{"ZADD", "z", "1", "a"}, nil, nil},
		{[]string{"ZADD", "z", "XX", "1", "nosuch"}, nil, nil},
		{[]string{"ZADD", "z", "CH", "5", "a"}, []string{"zadd z"}, []string{"z"}},
		{[]string{"ZADD", "z", "INCR", "1", "a"}, []string{"zincr z"}, []string{"z"}},
		{[]string{"ZINCRBY", "z", "1", "b"}, []string{"zincr z"}, []string{"z"}},
		{[]string{"ZADD", "z", "GT", "0", "b"}, nil, nil},
		{[]string{"ZINCRBY", "z", "-inf", "x"}, []string{"zincr z"}, []string{"z"}},
		{[]string{"ZINCRBY", "z", "+inf", "x"}, nil, nil}, // NaN: an error, nothing changes
		{[]string{"ZREM", "z", "nosuch"}, nil, nil},
		{[]string{"ZREM", "z", "x"}, []string{"zrem z"}, []string{"z"}},
		{[]string{"ZSCORE", "z", "a"}, nil, nil},
		{[]string{"ZRANGE", "z", "0", "-1"}, nil, nil},
		{[]string{"ZREMRANGEBYSCORE", "z", "100", "200"}, nil, nil},
		{[]string{"ZREMRANGEBYSCORE", "z", "6", "6"}, []string{"zremrangebyscore z"}, []string{"z"}},
		{[]string{"ZREMRANGEBYRANK", "z", "0", "0"}, []string{"zremrangebyrank z"}, []string{"z"}},
		{[]string{"ZADD", "z", "0", "p", "0", "q"}, []string{"zadd z"}, []string{"z"}},
		{[]string{"ZREMRANGEBYLEX", "z", "-", "[p"}, []string{"zremrangebylex z"}, []string{"z"}},
		{[]string{"ZPOPMIN", "z"}, []string{"zpopmin z"}, []string{"z"}},
		{[]string{"ZPOPMAX", "z", "0"}, nil, nil},
		{[]string{"ZPOPMAX", "z", "10"}, []string{"zpopmax z", "del z"}, []string{"z"}},
		{[]string{"ZPOPMAX", "z"}, nil, nil},
		{[]string{"ZADD", "z", "1", "a", "2", "b"}, []string{"zadd z"}, []string{"z"}},
		{[]string{"ZMPOP", "2", "nokey", "z", "MAX"}, []string{"zpopmax z"}, []string{"z"}},
		{[]string{"BZPOPMIN", "z", "0"}, []string{"zpopmin z", "del z"}, []string{"z"}},
		{[]string{"ZADD", "z", "1", "a", "2", "b"}, []string{"zadd z"}, []string{"z"}},
		{[]string{"ZREM", "z", "a", "b"}, []string{"zrem z", "del z"}, []string{"z"}},
		{[]string{"ZADD", "s1", "1", "a", "2", "b"}, []string{"zadd s1"}, []string{"s1"}},
		{[]string{"ZADD", "s2", "1", "b"}, []string{"zadd s2"}, []string{"s2"}},
		{[]string{"ZUNIONSTORE", "d", "2", "s1", "s2"}, []string{"zunionstore d"}, []string{"d"}},
		{[]string{"ZINTERSTORE", "d", "2", "s1", "s2"}, []string{"zinterstore d"}, []string{"d"}},
		{[]string{"ZDIFFSTORE", "d", "2", "s1", "s2"}, []string{"zdiffstore d"}, []string{"d"}},
		{[]string{"ZRANGESTORE", "d", "s1", "0", "0"}, []string{"zrangestore d"}, []string{"d"}},
		{[]string{"ZDIFFSTORE", "d", "2", "s1", "s1"}, []string{"del d"}, []string{"d"}},
		{[]string{"ZDIFFSTORE", "d", "2", "s1", "s1"}, nil, nil},
		{[]string{"ZRANGESTORE", "d", "nokey", "0", "-1"}, nil, nil},
		{[]string{"ZUNION", "2", "s1", "s2"}, nil, nil},
		{[]string{"GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"}, []string{"zadd g"}, []string{"g"}},
		{[]string{"GEOADD", "g", "NX", "13", "38", "Palermo"}, nil, nil},
		{[]string{"GEORADIUS", "g", "15", "37", "200", "km", "STORE", "gd"}, []string{"georadiusstore gd"}, []string{"gd"}},
		{[]string{"GEOSEARCHSTORE", "gd", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "100", "km"}, []string{"geosearchstore gd"}, []string{"gd"}},
		{[]string{"GEOSEARCHSTORE", "gd", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km"}, []string{"del gd"}, []string{"gd"}},
		{[]string{"GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "100", "km"}, nil, nil},
		{[]string{"GEOPOS", "g", "Palermo"}, nil, nil},
	} {
		c.send(step.cmd...)
		if _, err := c.read(5 * time.Second); err != nil {
			t.Fatalf("%v: %v", step.cmd, err)
		}
		events, modified := l.take()
		if !slices.Equal(events, step.events) {
			t.Errorf("%v: events %q, want %q", step.cmd, events, step.events)
		}
		if !slices.Equal(modified, step.modified) {
			t.Errorf("%v: modified %q, want %q", step.cmd, modified, step.modified)
		}
	}
}

// The set family's values are inputs of ZUNIONSTORE & co. through
// zsetSetInput: this fails to compile if their API moves.
var _ zsetSetInput = (*collection.Set)(nil)
