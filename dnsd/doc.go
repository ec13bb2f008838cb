// Package dnsd will be Anvil's authoritative DNS (Route 53).
//
// It is not built yet: see the project's open issues. ../CONTRACT.md in the
// shared folder fixes its flags, ports and API.
package dnsd
