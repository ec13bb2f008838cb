package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	File string // the config file, when the problem is in one
	Line int    // 1-based line in File, 0 when unknown
	Path string // the key path, such as "admin.listen" or "routes[2].match"
	Msg  string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is a list of configuration problems; a non-empty list is an error.
// Validation code appends to it and returns Err so that an operator sees
// every problem in one run instead of fixing them one at a time.
type Problems []Problem

// Add records a problem at the key path.
func (ps *Problems) Add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Merge appends the problems of err, which may be nil, a Problems, or any
// other error (recorded under path).
func (ps *Problems) Merge(path string, err error) {
	if err == nil {
		return
	}
	if other, ok := err.(Problems); ok {
		for _, p := range other {
			if path != "" {
				p.Path = JoinPath(path, p.Path)
			}
			*ps = append(*ps, p)
		}
		return
	}
	*ps = append(*ps, Problem{Path: path, Msg: err.Error()})
}

// Err returns nil when there are no problems and the list otherwise.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

func (ps Problems) Error() string {
	switch len(ps) {
	case 0:
		return "no problems"
	case 1:
		return ps[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(ps))
	for _, p := range ps {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// JoinPath joins two key paths: JoinPath("admin", "listen") is "admin.listen"
// and JoinPath("routes", "[2]") is "routes[2]".
func JoinPath(parent, child string) string {
	switch {
	case parent == "":
		return child
	case child == "":
		return parent
	case strings.HasPrefix(child, "["):
		return parent + child
	}
	return parent + "." + child
}
