// Package kvd is Anvil's sharded, Raft-replicated key-value store
// (DynamoDB-style), served over HTTP/JSON.
//
// Keys are hash-partitioned over a fixed number of shards (-shards, set
// when the cluster is created); each shard is a hashicorp/raft group
// replicated on -replicas nodes, and every group on a node shares the
// node's one Raft port (pkg/raftstore's Mux) and one pebble database (Raft
// logs, stable stores and the shards' state machines; see kvd/fsm). A
// metadata Raft group holds the shard map (kvd/placement); its leader adds
// nodes that gossip (pkg/membership) and places replicas, and every shard
// leader makes its group's configuration match the map. Any node accepts
// any request and forwards it to the shard's leader; reads are
// linearizable by default (ReadIndex-style, batched), or stale on request.
//
// Config keys beyond the shared ones (see deploy/examples/kvd.yaml):
// node_id, raft, gossip, advertise, join, replicas, shards,
// request_timeout, tuning.*. Flags: -node-id, -raft, -gossip, -join,
// -replicas, -shards. Nothing reloads on SIGHUP except the shared keys.
//
// Metrics are anvil_kvd_*; the admin API serves GET /v1/cluster and
// DELETE /v1/cluster/nodes/{name}. The KV API (CONTRACT.md, "kvd") is on
// the listen address. README.md describes the design, operations and the
// guarantees with how they are tested; LOCKS.md the lock order.
package kvd
