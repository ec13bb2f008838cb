package main

import (
	"context"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/anvilstack/anvil/pkg/daemon"
)

const module = "github.com/anvilstack/anvil"

var daemonPkgs = []string{"dnsd", "lbd", "cached", "queued", "kvd", "gatewayd"}

// goPackage is one directory of the module with the imports of its
// non-test files.
type goPackage struct {
	dir     string // relative to the module root, e.g. "pkg/config"
	name    string
	hasDoc  bool
	imports map[string]bool
}

func modulePackages(t *testing.T) []goPackage {
	t.Helper()
	root := "../.."
	byDir := map[string]*goPackage{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			base := d.Name()
			if path != root && (strings.HasPrefix(base, ".") || base == "testdata" || base == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		p := byDir[rel]
		if p == nil {
			p = &goPackage{dir: filepath.ToSlash(rel), name: f.Name.Name, imports: map[string]bool{}}
			byDir[rel] = p
		}
		if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			p.hasDoc = true
		}
		for _, imp := range f.Imports {
			s, _ := strconv.Unquote(imp.Path.Value)
			p.imports[s] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []goPackage
	for _, p := range byDir {
		out = append(out, *p)
	}
	return out
}

func under(dir string, prefixes ...string) bool {
	for _, p := range prefixes {
		if dir == p || strings.HasPrefix(dir, p+"/") {
			return true
		}
	}
	return false
}

// The layout rules of STYLE.md, checked on every non-test file.
func TestPackageConventions(t *testing.T) {
	banned := map[string]bool{"util": true, "utils": true, "common": true, "helpers": true, "misc": true, "base": true, "types": true}
	// Heavy dependencies and where they may be imported directly.
	heavy := map[string][]string{
		"github.com/miekg/dns":              {"dnsd"},
		"github.com/valyala/fasthttp":       {"lbd", "gatewayd", "pkg/upstream"},
		"github.com/cockroachdb/pebble":     {"pkg/pebblestore"},
		"github.com/hashicorp/raft":         {"pkg/raftstore", "kvd", "queued"},
		"github.com/hashicorp/memberlist":   {"pkg/membership"},
		"github.com/anishathalye/porcupine": {},
	}
	for _, p := range modulePackages(t) {
		if !p.hasDoc {
			t.Errorf("%s: package %s has no doc comment", p.dir, p.name)
		}
		if banned[p.name] {
			t.Errorf("%s: package name %q says nothing about its job", p.dir, p.name)
		}
		for imp := range p.imports {
			if inner, ok := strings.CutPrefix(imp, module+"/"); ok {
				for _, d := range daemonPkgs {
					if !under(inner, d) {
						continue
					}
					if under(p.dir, "pkg") {
						t.Errorf("%s imports daemon package %s: pkg/ never imports a daemon", p.dir, imp)
					}
					for _, other := range daemonPkgs {
						if other != d && under(p.dir, other) && !strings.HasSuffix(inner, "/client") {
							t.Errorf("%s imports %s: a daemon never imports another daemon", p.dir, imp)
						}
					}
				}
			}
			for dep, allowed := range heavy {
				if (imp == dep || strings.HasPrefix(imp, dep+"/")) && !under(p.dir, allowed...) {
					t.Errorf("%s imports %s directly; only %v may", p.dir, imp, allowed)
				}
			}
		}
	}
}

// Every metric a daemon serves is named anvil_<daemon>_* (or is one of the
// standard Go and process metrics) and passes promlint.
func TestMetricNames(t *testing.T) {
	for _, def := range daemons() {
		t.Run(def.DaemonName(), func(t *testing.T) {
			d, err := def.Local(daemon.LocalOptions{RandomPorts: true, DataDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := d.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := d.Shutdown(ctx); err != nil {
					t.Error(err)
				}
			}()
			fams, err := d.Registry().Gather()
			if err != nil {
				t.Fatal(err)
			}
			prefix := "anvil_" + def.DaemonName() + "_"
			for _, f := range fams {
				n := f.GetName()
				if !strings.HasPrefix(n, prefix) && !strings.HasPrefix(n, "go_") && !strings.HasPrefix(n, "process_") {
					t.Errorf("metric %s lacks the %s prefix", n, prefix)
				}
			}
			problems, err := promlint.NewWithMetricFamilies(fams).Lint()
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				if strings.HasPrefix(p.Metric, "anvil_") {
					t.Errorf("promlint: %s: %s", p.Metric, p.Text)
				}
			}
		})
	}
}
