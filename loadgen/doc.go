// Package loadgen publishes synthetic demo events to the input topic, Avro
// encoded with Confluent framing against a schema registry: what
// `sluice produce`, `sluice demo` and the benchmarks use to drive a worker.
// PublishJSON publishes a user's own records instead, read as JSON lines
// and encoded with their schema (`sluice produce --json --schema`).
package loadgen
