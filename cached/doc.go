// Package cached will be Anvil's a Redis-protocol cache (ElastiCache).
//
// It is not built yet: see the project's open issues. ../CONTRACT.md in the
// shared folder fixes its flags, ports and API.
package cached
