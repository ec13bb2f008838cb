// Package buildinfo reports the version, commit and Go version a binary was
// built with, from the module build information the Go toolchain embeds.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Info describes a build.
type Info struct {
	Version   string // module version, "(devel)" for a local build
	Commit    string // VCS revision, "unknown" when not recorded
	Modified  bool   // the work tree had uncommitted changes
	GoVersion string
}

// Read returns the running binary's build information.
func Read() Info {
	info := Info{Version: "(devel)", Commit: "unknown", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	if v := bi.Main.Version; v != "" {
		info.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String formats the information for -version: "cached (devel) commit
// 1a2b3c4 (modified) go1.26.0".
func (i Info) String(program string) string {
	commit := i.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if i.Modified {
		commit += " (modified)"
	}
	return fmt.Sprintf("%s %s commit %s %s", program, i.Version, commit, i.GoVersion)
}
