// Package loadgen publishes synthetic demo events to the input topic, Avro
// encoded with Confluent framing against a schema registry: what
// `sluice produce`, `sluice demo` and the benchmarks use to drive a worker.
package loadgen
