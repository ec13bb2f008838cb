package config

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Flag is a command-line flag that overrides one setting of a config C.
// Flags are applied after the file is decoded, so a flag given on the
// command line always wins over the file, and the file over the defaults.
type Flag[C any] struct {
	Name  string
	Usage string
	Bool  bool // takes no value (-flag means true)
	// Set parses value and stores it in c.
	Set func(c *C, value string) error
}

// String is a flag that sets a string field.
func String[C any](name, usage string, field func(*C) *string) Flag[C] {
	return Flag[C]{Name: name, Usage: usage, Set: func(c *C, v string) error {
		*field(c) = v
		return nil
	}}
}

// Strings is a flag that sets a list field from comma-separated values.
func Strings[C any](name, usage string, field func(*C) *[]string) Flag[C] {
	return Flag[C]{Name: name, Usage: usage, Set: func(c *C, v string) error {
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		*field(c) = out
		return nil
	}}
}

// Int is a flag that sets an int field.
func Int[C any](name, usage string, field func(*C) *int) Flag[C] {
	return Flag[C]{Name: name, Usage: usage, Set: func(c *C, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("not an integer: %q", v)
		}
		*field(c) = n
		return nil
	}}
}

// Duration is a flag that sets a time.Duration field ("30s", "5m").
func Duration[C any](name, usage string, field func(*C) *time.Duration) Flag[C] {
	return Flag[C]{Name: name, Usage: usage, Set: func(c *C, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("not a duration: %q", v)
		}
		*field(c) = d
		return nil
	}}
}

// Bool is a flag that sets a bool field.
func Bool[C any](name, usage string, field func(*C) *bool) Flag[C] {
	return Flag[C]{Name: name, Usage: usage, Bool: true, Set: func(c *C, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("not a boolean: %q", v)
		}
		*field(c) = b
		return nil
	}}
}

// Overrides records the flags given on a command line, in order, so that
// they can be applied over a config loaded later (and again on reload).
type Overrides[C any] struct {
	set []func(*C) error
}

// Register defines flags on fs. A flag's value is checked when it is
// parsed, so a bad value fails flag parsing with the flag's name.
func (o *Overrides[C]) Register(fs *flag.FlagSet, flags ...Flag[C]) {
	for _, f := range flags {
		fn := func(v string) error {
			var scratch C
			if err := f.Set(&scratch, v); err != nil {
				return err
			}
			o.set = append(o.set, func(c *C) error { return f.Set(c, v) })
			return nil
		}
		if f.Bool {
			fs.BoolFunc(f.Name, f.Usage, fn)
		} else {
			fs.Func(f.Name, f.Usage, fn)
		}
	}
}

// Apply sets every recorded flag on c.
func (o *Overrides[C]) Apply(c *C) error {
	for _, set := range o.set {
		if err := set(c); err != nil {
			return err
		}
	}
	return nil
}
