// Package gatewayd will be Anvil's an API gateway (API Gateway).
//
// It is not built yet: see the project's open issues. ../CONTRACT.md in the
// shared folder fixes its flags, ports and API.
package gatewayd
