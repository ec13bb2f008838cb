// Package kvd will be Anvil's a sharded, Raft-replicated key-value store (DynamoDB-style).
//
// It is not built yet: see the project's open issues. ../CONTRACT.md in the
// shared folder fixes its flags, ports and API.
package kvd
