package config

import (
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
)

// Diff returns the YAML key paths at which a and b, two values of the same
// config type, differ: the leaves of structs, and whole maps and lists.
// Reload uses it to name what changed and what cannot change.
func Diff(a, b any) []string {
	var out []string
	diff(reflect.ValueOf(a), reflect.ValueOf(b), "", &out)
	return out
}

func diff(a, b reflect.Value, path string, out *[]string) {
	if a.Kind() == reflect.Pointer && b.Kind() == reflect.Pointer && !a.IsNil() && !b.IsNil() {
		a, b = a.Elem(), b.Elem()
	}
	if a.Kind() != reflect.Struct || a.Type() != b.Type() {
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			*out = append(*out, path)
		}
		return
	}
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		child := path
		if !strings.Contains(","+opts+",", ",inline,") {
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			child = JoinPath(path, name)
		}
		diff(a.Field(i), b.Field(i), child, out)
	}
}

// Without returns the paths of ps that are not path itself or under it.
func Without(ps []string, prefixes ...string) []string {
	var out []string
next:
	for _, p := range ps {
		for _, pre := range prefixes {
			if p == pre || strings.HasPrefix(p, pre+".") || strings.HasPrefix(p, pre+"[") {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// Only returns the paths of ps that are path itself or under it.
func Only(ps []string, prefixes ...string) []string {
	var out []string
	for _, p := range ps {
		for _, pre := range prefixes {
			if p == pre || strings.HasPrefix(p, pre+".") || strings.HasPrefix(p, pre+"[") {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// CheckHostPort records a problem at path unless addr is a usable listen
// address: "host:port" with a numeric port 0..65535 (0 picks a free port).
func (ps *Problems) CheckHostPort(path, addr string) {
	if err := ValidateHostPort(addr); err != nil {
		ps.Add(path, "%v", err)
	}
}

// ValidateHostPort reports whether addr is a usable listen address.
func ValidateHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not a host:port address", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: port %q is not a number in 0..65535", addr, port)
	}
	return nil
}
