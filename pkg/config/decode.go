package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads the YAML file at path and decodes it strictly into dst, a
// pointer to a struct already holding the defaults.
func Load(path string, dst any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	return Decode(path, data, dst)
}

// Decode decodes YAML data strictly into dst, a pointer to a struct that
// already holds the defaults; keys absent from data keep their defaults.
// name labels problems (usually the file path). Every unknown key and every
// value of the wrong type is reported, with its line and key path, in one
// Problems error; dst is left untouched unless the whole document decodes.
func Decode(name string, data []byte, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("config: decode into %T: need a non-nil pointer", dst)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Problems{syntaxProblem(name, err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // an empty file: all defaults
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil // a file holding only comments or "~"
	}
	var ps Problems
	check(root, rv.Type().Elem(), "", name, &ps)
	if len(ps) > 0 {
		return ps
	}
	// Decode into a copy so that a failure half-way leaves dst as it was.
	tmp := reflect.New(rv.Type().Elem())
	tmp.Elem().Set(rv.Elem())
	if err := root.Decode(tmp.Interface()); err != nil {
		return Problems{typeProblem(name, 0, "", err)}
	}
	rv.Elem().Set(tmp.Elem())
	return nil
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// check walks node against t, recording unknown keys and values that do not
// decode into their field's type. It decodes each scalar on its own so that a
// type error carries the key path, which yaml.v3's own errors lack.
func check(node *yaml.Node, t reflect.Type, path, file string, ps *Problems) {
	if node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		decodeLeaf(node, t, path, file, ps)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			if isNull(node) {
				return
			}
			ps.add(file, node.Line, path, "expected a mapping, got %s", describe(node))
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			if k.Value == "<<" {
				check(v, t, path, file, ps) // merge key: its mapping applies here
				continue
			}
			ft, ok := fields[k.Value]
			if !ok {
				ps.add(file, k.Line, JoinPath(path, k.Value), "unknown key %q", k.Value)
				continue
			}
			check(v, ft, JoinPath(path, k.Value), file, ps)
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			if isNull(node) {
				return
			}
			ps.add(file, node.Line, path, "expected a mapping, got %s", describe(node))
			return
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			decodeLeaf(k, t.Key(), JoinPath(path, k.Value), file, ps)
			check(v, t.Elem(), JoinPath(path, k.Value), file, ps)
		}
	case reflect.Slice, reflect.Array:
		if node.Kind != yaml.SequenceNode {
			if isNull(node) {
				return
			}
			ps.add(file, node.Line, path, "expected a list, got %s", describe(node))
			return
		}
		for i, item := range node.Content {
			check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), file, ps)
		}
	default:
		decodeLeaf(node, t, path, file, ps)
	}
}

func decodeLeaf(node *yaml.Node, t reflect.Type, path, file string, ps *Problems) {
	if err := node.Decode(reflect.New(t).Interface()); err != nil {
		*ps = append(*ps, typeProblem(file, node.Line, path, err))
	}
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (ps *Problems) add(file string, line int, path, format string, args ...any) {
	*ps = append(*ps, Problem{File: file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// yamlFields maps the YAML keys of struct t to their types, following
// ",inline" fields the way yaml.v3 does.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type)
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // yaml.v3's default key
		}
		out[name] = f.Type
	}
	return out
}

var lineRE = regexp.MustCompile(`^line (\d+): `)

func typeProblem(file string, line int, path string, err error) Problem {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = strings.Join(te.Errors, "; ")
	}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
		if line == 0 {
			fmt.Sscan(m[1], &line)
		}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := unmarshalRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("%q is not a valid %s", m[1], friendlyType(m[2]))
	}
	return Problem{File: file, Line: line, Path: path, Msg: msg}
}

var unmarshalRE = regexp.MustCompile("^cannot unmarshal !!\\w+ `(.*)` into (.+)$")

func friendlyType(t string) string {
	switch {
	case t == "time.Duration":
		return "duration (such as 500ms, 30s, 5m)"
	case t == "bool":
		return "boolean (true or false)"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "integer"
	case strings.HasPrefix(t, "float"):
		return "number"
	case strings.HasPrefix(t, "[]"):
		return "list"
	case strings.HasPrefix(t, "map["):
		return "mapping"
	}
	return t
}

var syntaxLineRE = regexp.MustCompile(`^yaml: line (\d+): `)

func syntaxProblem(file string, err error) Problem {
	msg := err.Error()
	line := 0
	if m := syntaxLineRE.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
		fmt.Sscan(m[1], &line)
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return Problem{File: file, Line: line, Msg: "invalid YAML: " + msg}
}
