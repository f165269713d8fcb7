// Package admin is the worker's HTTP admin server: Prometheus metrics at
// /metrics, liveness at /healthz (the process serves HTTP) and readiness at
// /readyz: 200 while the worker can make progress, otherwise 503 with a
// JSON body naming each condition that stops it (not joined, no model, a
// topic missing, the brokers unreachable, commits stalled, a partition
// stuck).
package admin
