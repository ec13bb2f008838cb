// Package queued will be Anvil's a durable queue speaking the SQS API (SQS).
//
// It is not built yet: see the project's open issues. ../CONTRACT.md in the
// shared folder fixes its flags, ports and API.
package queued
