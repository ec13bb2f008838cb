package main

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/anvilstack/anvil/pkg/daemon"
)

const deployDir = "../../deploy"

// Every registered daemon has a unit and an example config; every example
// loads and validates; every unit follows the contract (CONTRACT.md,
// "Packaged paths") and grants a capability only when a low port needs it.
func TestDeployFiles(t *testing.T) {
	known := map[string]daemon.Definition{}
	for _, d := range daemons() {
		known[d.DaemonName()] = d
	}
	examples, _ := filepath.Glob(filepath.Join(deployDir, "examples", "*.yaml"))
	units, _ := filepath.Glob(filepath.Join(deployDir, "systemd", "*.service"))
	haveExample := map[string]bool{}
	lowPort := map[string]bool{}

	for _, path := range examples {
		name := exampleDaemon(filepath.Base(path))
		def, ok := known[name]
		if !ok {
			t.Errorf("%s: no daemon %q is registered in cmd/anvil/daemons.go", path, name)
			continue
		}
		t.Run("example/"+filepath.Base(path), func(t *testing.T) {
			addrs, err := def.CheckFile(path)
			if err != nil {
				t.Fatalf("does not load: %v", err)
			}
			if filepath.Base(path) == name+".yaml" {
				haveExample[name] = true
				for _, a := range addrs {
					if _, p, _ := net.SplitHostPort(a); p != "" {
						if n, _ := strconv.Atoi(p); n > 0 && n < 1024 {
							lowPort[name] = true
						}
					}
				}
			}
		})
	}

	haveUnit := map[string]bool{}
	for _, path := range units {
		base := filepath.Base(path)
		name := strings.TrimSuffix(strings.TrimPrefix(base, "anvil-"), ".service")
		if _, ok := known[name]; !ok || base != "anvil-"+name+".service" {
			t.Errorf("%s: not anvil-<daemon>.service for a registered daemon", path)
			continue
		}
		haveUnit[name] = true
		t.Run("unit/"+base, func(t *testing.T) { checkUnit(t, path, name, lowPort[name]) })
	}
	for name := range known {
		if !haveExample[name] {
			t.Errorf("daemon %s has no deploy/examples/%s.yaml", name, name)
		}
		if !haveUnit[name] {
			t.Errorf("daemon %s has no deploy/systemd/anvil-%s.service", name, name)
		}
	}
}

// exampleDaemon maps "cached.yaml" and "cached-persistence.yaml" to "cached".
func exampleDaemon(file string) string {
	name := strings.TrimSuffix(file, ".yaml")
	if i := strings.IndexByte(name, '-'); i > 0 {
		name = name[:i]
	}
	return name
}

func checkUnit(t *testing.T, path, name string, needsCap bool) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("not key=value: %q", line)
			continue
		}
		keys[k] = append(keys[k], v)
	}
	want := map[string]string{
		"Type":                    "notify",
		"ExecStart":               "/usr/local/bin/" + name + " -config /etc/anvil/" + name + ".yaml",
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"DynamicUser":             "yes",
		"StateDirectory":          "anvil/" + name,
		"ConfigurationDirectory":  "anvil",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"NoNewPrivileges":         "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectControlGroups":    "yes",
		"RestrictSUIDSGID":        "yes",
		"LockPersonality":         "yes",
		"RestrictNamespaces":      "yes",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
		"Restart":                 "on-failure",
		"KillSignal":              "SIGTERM",
		"WantedBy":                "multi-user.target",
	}
	for k, v := range want {
		if got := keys[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s=%v, want %s", k, got, v)
		}
	}
	caps := keys["AmbientCapabilities"]
	bound := keys["CapabilityBoundingSet"]
	if needsCap {
		if len(caps) != 1 || caps[0] != "CAP_NET_BIND_SERVICE" || len(bound) != 1 || bound[0] != "CAP_NET_BIND_SERVICE" {
			t.Errorf("the example listens below port 1024 but the unit does not grant exactly CAP_NET_BIND_SERVICE (ambient %v, bounding %v)", caps, bound)
		}
	} else {
		if len(caps) != 0 {
			t.Errorf("AmbientCapabilities=%v, but no configured port is below 1024", caps)
		}
		if len(bound) != 1 || bound[0] != "" {
			t.Errorf("CapabilityBoundingSet=%v, want empty (no capabilities)", bound)
		}
	}
}
