// Package admin is the worker's HTTP admin server: Prometheus metrics at
// /metrics, liveness at /healthz and readiness at /readyz (200 only once the
// worker has joined its consumer group and has a model loaded).
package admin
