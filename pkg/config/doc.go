// Package config decodes Anvil's YAML configuration files strictly and
// reports every problem at once.
//
// The order is always: built-in defaults (a daemon's DefaultConfig), then the
// file decoded over them (Decode: an unknown key or a value of the wrong type
// is a problem naming the file, line and key path), then command-line flags
// that were given (Flag), then validation (Problems collects every failure
// with its key path). Diff names the keys that differ between two configs so
// that a reload can say what it changed or why it refused.
package config
