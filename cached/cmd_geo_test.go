//lint:file-ignore SA1019 the deprecated commands (GEORADIUS, ZRANGEBYSCORE ...) are part of the family under test

package cached_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/anvilstack/anvil/pkg/resp"
)

// The geo family through go-redis, in RESP2 and RESP3.
func TestGeoGoRedis(t *testing.T) {
	_, addr := startCached(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp=%d", proto), func(t *testing.T) {
			rdb := newClient(t, addr, proto)
			ok(t, rdb.FlushAll(ctx))
			sicily := []*redis.GeoLocation{
				{Name: "Palermo", Longitude: 13.361389, Latitude: 38.115556},
				{Name: "Catania", Longitude: 15.087269, Latitude: 37.502669},
			}
			eq(t, "GEOADD", ok(t, rdb.GeoAdd(ctx, "Sicily", sicily...)).Val(), int64(2))
			eq(t, "GEOADD again", ok(t, rdb.GeoAdd(ctx, "Sicily", sicily[0])).Val(), int64(0))
			eq(t, "TYPE", ok(t, rdb.Type(ctx, "Sicily")).Val(), "zset")
			eq(t, "score", ok(t, rdb.ZScore(ctx, "Sicily", "Palermo")).Val(), 3479099956230698.0)

			pos := ok(t, rdb.GeoPos(ctx, "Sicily", "Palermo", "Nowhere")).Val()
			if pos[0] == nil || math.Abs(pos[0].Longitude-13.361389) > 1e-5 || math.Abs(pos[0].Latitude-38.115556) > 1e-5 || pos[1] != nil {
				t.Fatalf("GEOPOS = %+v %+v", pos[0], pos[1])
			}
			eq(t, "GEODIST km", ok(t, rdb.GeoDist(ctx, "Sicily", "Palermo", "Catania", "km")).Val(), 166.2742)
			eq(t, "GEODIST m", ok(t, rdb.GeoDist(ctx, "Sicily", "Palermo", "Catania", "m")).Val(), 166274.1516)
			if err := rdb.GeoDist(ctx, "Sicily", "Palermo", "Nowhere", "km").Err(); err != redis.Nil {
				t.Fatalf("GEODIST with a missing member: %v", err)
			}
			eq(t, "GEOHASH", fmt.Sprint(ok(t, rdb.GeoHash(ctx, "Sicily", "Palermo", "Catania")).Val()), "[sqc8b49rny0 sqdtr74hyu0]")

			res := ok(t, rdb.GeoRadius(ctx, "Sicily", 15, 37, &redis.GeoRadiusQuery{
				Radius: 200, Unit: "km", WithDist: true, WithCoord: true, WithGeoHash: true, Sort: "ASC"})).Val()
			if len(res) != 2 || res[0].Name != "Catania" || res[0].Dist != 56.4413 || res[1].Dist != 190.4424 ||
				res[0].GeoHash != 3479447370796909 || math.Abs(res[0].Longitude-15.087269) > 1e-5 {
				t.Fatalf("GEORADIUS = %+v", res)
			}
			byMember := ok(t, rdb.GeoRadiusByMember(ctx, "Sicily", "Palermo", &redis.GeoRadiusQuery{Radius: 100, Unit: "km"})).Val()
			eq(t, "GEORADIUSBYMEMBER", len(byMember), 1)
			eq(t, "GEORADIUS STORE", ok(t, rdb.GeoRadiusStore(ctx, "Sicily", 15, 37, &redis.GeoRadiusQuery{Radius: 200, Unit: "km", Store: "dst"})).Val(), int64(2))
			eq(t, "stored", ok(t, rdb.ZScore(ctx, "dst", "Palermo")).Val(), 3479099956230698.0)
			ok(t, rdb.GeoRadiusStore(ctx, "Sicily", 15, 37, &redis.GeoRadiusQuery{Radius: 200, Unit: "km", StoreDist: "dd"}))
			if d := ok(t, rdb.ZScore(ctx, "dd", "Catania")).Val(); math.Abs(d-56.4413) > 1e-3 {
				t.Fatalf("STOREDIST score %v", d)
			}
			names := ok(t, rdb.GeoSearch(ctx, "Sicily", &redis.GeoSearchQuery{
				Longitude: 15, Latitude: 37, BoxWidth: 400, BoxHeight: 400, BoxUnit: "km", Sort: "DESC"})).Val()
			eq(t, "GEOSEARCH BYBOX DESC", fmt.Sprint(names), "[Palermo Catania]")
			locs := ok(t, rdb.GeoSearchLocation(ctx, "Sicily", &redis.GeoSearchLocationQuery{
				GeoSearchQuery: redis.GeoSearchQuery{Member: "Palermo", Radius: 200, RadiusUnit: "km", Sort: "ASC", Count: 1},
				WithDist:       true})).Val()
			if len(locs) != 1 || locs[0].Name != "Palermo" || locs[0].Dist != 0 {
				t.Fatalf("GEOSEARCH FROMMEMBER COUNT 1 = %+v", locs)
			}
			eq(t, "GEOSEARCHSTORE", ok(t, rdb.GeoSearchStore(ctx, "Sicily", "gs", &redis.GeoSearchStoreQuery{
				GeoSearchQuery: redis.GeoSearchQuery{Longitude: 15, Latitude: 37, Radius: 100, RadiusUnit: "km"}})).Val(), int64(1))
			zsetErr(t, rdb.Do(ctx, "GEOADD", "Sicily", 200, 100, "x").Err(), "ERR invalid longitude,latitude pair 200.000000,100.000000")
			zsetErr(t, rdb.Do(ctx, "GEOSEARCH", "Sicily", "BYRADIUS", 1, "km", "ASC", "WITHDIST").Err(), "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH")
			zsetErr(t, rdb.Do(ctx, "GEORADIUS", "Sicily", 15, 37, 1, "yd").Err(), "ERR unsupported unit provided. please use M, KM, FT, MI")
			ok(t, rdb.Set(ctx, "str", "v", 0))
			zsetErr(t, rdb.GeoPos(ctx, "str", "a").Err(), "WRONGTYPE")
		})
	}
}

// TestGeoSearchAgainstRedis runs random searches on random points
// against cached and a real redis-server and compares the replies byte for
// byte (WITHDIST and WITHCOORD included), and checks the members found
// against the haversine distance computed here: every point well inside
// the shape is found, none well outside.
func TestGeoSearchAgainstRedis(t *testing.T) {
	redisAddr := startRedis(t)
	_, addr := startCached(t, nil)
	ref, got := dialRaw(t, redisAddr), dialRaw(t, addr)
	rdb := newClient(t, addr, 2)
	rng := rand.New(rand.NewPCG(7, 8))
	haversine := func(lon1, lat1, lon2, lat2 float64) float64 {
		r := math.Pi / 180
		u := math.Sin((lat2 - lat1) * r / 2)
		v := math.Sin((lon2 - lon1) * r / 2)
		return 2 * 6372797.560856 * math.Asin(math.Sqrt(u*u+math.Cos(lat1*r)*math.Cos(lat2*r)*v*v))
	}
	both := func(args ...string) string {
		t.Helper()
		want, have := ref.do(args...), got.do(args...)
		if want != have {
			t.Fatalf("%v\n redis:  %s\n cached: %s", args, quote(want), quote(have))
		}
		return have
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	stored, differ := 0, 0
	defer func() {
		t.Logf("STOREDIST: %d of %d stored distances differ from Redis's in the last digit", differ, stored)
		if differ*100 > stored {
			t.Errorf("STOREDIST: %d of %d stored distances differ from Redis's (more than 1%%)", differ, stored)
		}
	}()
	for round := 0; round < 30; round++ {
		both("DEL", "pts")
		lon0, lat0 := -180+rng.Float64()*360, -80+rng.Float64()*160
		radius := 1 + rng.Float64()*3000 // km
		spread := radius / 40
		type pt struct{ lon, lat float64 }
		pts := map[string]pt{}
		add := []string{"GEOADD", "pts"}
		for i := 0; i < 300; i++ {
			lon, lat := -180+rng.Float64()*360, -85+rng.Float64()*170
			if i%3 != 0 {
				lon = math.Max(-180, math.Min(180, lon0+(rng.Float64()-0.5)*spread))
				lat = math.Max(-85, math.Min(85, lat0+(rng.Float64()-0.5)*spread))
			}
			name := fmt.Sprint(i)
			pts[name] = pt{lon, lat}
			add = append(add, f(lon), f(lat), name)
		}
		both(add...)
		both("GEOSEARCH", "pts", "FROMLONLAT", f(lon0), f(lat0), "BYRADIUS", f(radius), "km", "ASC", "WITHDIST", "WITHCOORD", "WITHHASH")
		both("GEOSEARCH", "pts", "FROMLONLAT", f(lon0), f(lat0), "BYBOX", f(radius), f(radius/2), "km", "DESC", "WITHDIST")
		both("GEOSEARCH", "pts", "FROMMEMBER", "1", "BYRADIUS", f(radius*1000), "m", "COUNT", "7", "WITHDIST")
		both("GEORADIUS", "pts", f(lon0), f(lat0), f(radius/1.609), "mi", "WITHDIST", "ASC")
		both("GEOSEARCH", "pts", "FROMLONLAT", f(lon0), f(lat0), "BYRADIUS", f(radius), "km", "COUNT", "5", "ANY")
		// Stored distances: all 17 digits. cached's sin, cos and asin are
		// correctly rounded; glibc's are not in about 0.1% of cases, so a
		// rare stored distance may differ in its last digit.
		both("GEOSEARCHSTORE", "dd", "pts", "FROMLONLAT", f(lon0), f(lat0), "BYRADIUS", f(radius), "km", "STOREDIST")
		wantDists := resp2Pairs(t, ref.do("ZRANGE", "dd", "0", "-1", "WITHSCORES"))
		gotDists := resp2Pairs(t, got.do("ZRANGE", "dd", "0", "-1", "WITHSCORES"))
		if len(wantDists) != len(gotDists) {
			t.Fatalf("round %d: STOREDIST stored %d members, redis %d", round, len(gotDists), len(wantDists))
		}
		for m, d := range wantDists {
			stored++
			if gotDists[m] != d {
				differ++
			}
		}
		found := ok(t, rdb.GeoSearch(ctx, "pts", &redis.GeoSearchQuery{Longitude: lon0, Latitude: lat0, Radius: radius, RadiusUnit: "km"})).Val()
		in := map[string]bool{}
		for _, n := range found {
			in[n] = true
		}
		for name, p := range pts {
			d := haversine(lon0, lat0, p.lon, p.lat) / 1000
			if d > radius*1.001 && in[name] {
				t.Fatalf("round %d: %s at %.3f km found in a %.3f km radius", round, name, d, radius)
			}
			// Redis's nine boxes can miss points near the edge close to
			// the poles and the antimeridian; well inside, none is missed.
			if d < radius*0.5 && !in[name] {
				t.Fatalf("round %d: %s at %.3f km missed in a %.3f km radius", round, name, d, radius)
			}
		}
	}
}

// resp2Pairs reads a flat RESP2 array of member, score pairs.
func resp2Pairs(t *testing.T, raw string) map[string]string {
	t.Helper()
	v, err := resp.NewReader(strings.NewReader(raw)).ReadValue()
	if err != nil {
		t.Fatalf("reply %q: %v", raw, err)
	}
	out := map[string]string{}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		out[v.Elems[i].String()] = v.Elems[i+1].String()
	}
	return out
}
