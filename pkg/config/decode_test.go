package config

import (
	"flag"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

type adminCfg struct {
	Listen string `yaml:"listen"`
	Token  string `yaml:"token"`
}

type BaseCfg struct {
	Listen string   `yaml:"listen"`
	Admin  adminCfg `yaml:"admin"`
}

type route struct {
	Path     string   `yaml:"path"`
	Backends []string `yaml:"backends"`
}

type limit struct {
	Rate int `yaml:"rate"`
}

type testCfg struct {
	BaseCfg `yaml:",inline"`
	Timeout time.Duration    `yaml:"timeout"`
	Workers int              `yaml:"workers"`
	Tags    []string         `yaml:"tags"`
	Routes  []route          `yaml:"routes"`
	Limits  map[string]limit `yaml:"limits"`
}

func defaults() testCfg {
	return testCfg{
		BaseCfg: BaseCfg{Listen: "127.0.0.1:1", Admin: adminCfg{Listen: "127.0.0.1:2"}},
		Timeout: 5 * time.Second,
		Workers: 2,
	}
}

func TestLoadGood(t *testing.T) {
	cfg := defaults()
	if err := Load("testdata/full.good.yaml", &cfg); err != nil {
		t.Fatal(err)
	}
	want := testCfg{
		BaseCfg: BaseCfg{Listen: "127.0.0.1:7000", Admin: adminCfg{Listen: "127.0.0.1:7001", Token: "s3cret"}},
		Timeout: 90 * time.Second,
		Workers: 8,
		Tags:    []string{"a", "b"},
		Routes:  []route{{Path: "/x", Backends: []string{"b1", "b2"}}},
		Limits:  map[string]limit{"api": {Rate: 10}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}

	cfg = defaults()
	if err := Load("testdata/empty.good.yaml", &cfg); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, defaults()) {
		t.Fatalf("an empty file changed the defaults: %+v", cfg)
	}
}

func TestLoadBad(t *testing.T) {
	// Each bad file and every problem expected in its error, in order.
	cases := map[string][]string{
		"unknown-top.bad.yaml":    {`unknown-top.bad.yaml:2: lisen: unknown key "lisen"`},
		"unknown-nested.bad.yaml": {`unknown-nested.bad.yaml:3: admin.tokn: unknown key "tokn"`},
		"unknown-in-list.bad.yaml": {
			`unknown-in-list.bad.yaml:4: routes[1].backend: unknown key "backend"`,
		},
		"wrong-type.bad.yaml":   {`wrong-type.bad.yaml:1: workers: "many" is not a valid integer`},
		"bad-duration.bad.yaml": {`bad-duration.bad.yaml:1: timeout: "soon" is not a valid duration`},
		"syntax.bad.yaml":       {"syntax.bad.yaml:", "invalid YAML"},
		"many.bad.yaml": {
			"3 problems:",
			`many.bad.yaml:1: workers: "x" is not a valid integer`,
			`many.bad.yaml:3: admin.tokn: unknown key "tokn"`,
			`many.bad.yaml:4: routez: unknown key "routez"`,
		},
	}
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) != len(cases) {
		t.Fatalf("%d bad files in testdata, %d cases: keep them in step", len(files), len(cases))
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			want, ok := cases[name]
			if !ok {
				t.Fatalf("no expected error for %s", name)
			}
			cfg := defaults()
			err := Load(path, &cfg)
			if err == nil {
				t.Fatal("loaded without error")
			}
			msg := err.Error()
			rest := msg
			for _, w := range want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error %q\nlacks %q (in order)", msg, w)
				}
				rest = rest[i+len(w):]
			}
			if !reflect.DeepEqual(cfg, defaults()) {
				t.Fatalf("a failed load changed the config: %+v", cfg)
			}
		})
	}
}

func TestFlagsOverrideFile(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var ov Overrides[testCfg]
	ov.Register(fs,
		String("listen", "", func(c *testCfg) *string { return &c.Listen }),
		Int("workers", "", func(c *testCfg) *int { return &c.Workers }),
		Duration("timeout", "", func(c *testCfg) *time.Duration { return &c.Timeout }),
		Strings("tags", "", func(c *testCfg) *[]string { return &c.Tags }),
	)
	if err := fs.Parse([]string{"-listen", "127.0.0.1:9999", "-workers=3", "-tags", "x, y"}); err != nil {
		t.Fatal(err)
	}
	cfg := defaults()
	if err := Load("testdata/full.good.yaml", &cfg); err != nil {
		t.Fatal(err)
	}
	if err := ov.Apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9999" || cfg.Workers != 3 || !reflect.DeepEqual(cfg.Tags, []string{"x", "y"}) {
		t.Fatalf("flags did not override the file: %+v", cfg)
	}
	if cfg.Timeout != 90*time.Second || cfg.Admin.Token != "s3cret" {
		t.Fatalf("a flag not given changed the file's value: %+v", cfg)
	}

	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	ov = Overrides[testCfg]{}
	ov.Register(fs, Int("workers", "", func(c *testCfg) *int { return &c.Workers }))
	err := fs.Parse([]string{"-workers", "lots"})
	if err == nil || !strings.Contains(err.Error(), "-workers") || !strings.Contains(err.Error(), "not an integer") {
		t.Fatalf("bad flag value: got %v", err)
	}
}

func TestDiff(t *testing.T) {
	a := defaults()
	b := defaults()
	if d := Diff(a, b); len(d) != 0 {
		t.Fatalf("equal configs differ at %v", d)
	}
	b.Admin.Token = "t"
	b.Listen = "127.0.0.1:3"
	b.Routes = []route{{Path: "/"}}
	got := Diff(a, b)
	want := []string{"listen", "admin.token", "routes"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Diff = %v, want %v", got, want)
	}
	if o := Only(got, "admin", "listen"); !reflect.DeepEqual(o, []string{"listen", "admin.token"}) {
		t.Fatalf("Only = %v", o)
	}
	if w := Without(got, "admin"); !reflect.DeepEqual(w, []string{"listen", "routes"}) {
		t.Fatalf("Without = %v", w)
	}
}

func TestValidateHostPort(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:0": true, "127.0.0.1:65535": true, "[::1]:53": true, ":8080": true,
		"127.0.0.1": false, "127.0.0.1:65536": false, "127.0.0.1:http": false, "": false, "127.0.0.1:-1": false,
	} {
		if err := ValidateHostPort(addr); (err == nil) != ok {
			t.Errorf("ValidateHostPort(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}
