// Package lbd will be Anvil's an L7 load balancer, reverse proxy and edge cache (ELB/ALB + CloudFront).
//
// It is not built yet: see the project's open issues. ../CONTRACT.md in the
// shared folder fixes its flags, ports and API.
package lbd
