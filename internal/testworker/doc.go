// Package testworker starts a real sluice worker for the tests of what is
// served beside it (the status page, the Open Inference Protocol): a
// Kafka-protocol broker over TCP, a real redis-server behind the embedded
// schema registry, the demo model trained and loaded in ONNX Runtime, a
// pipeline.Worker consuming the features topic, and the admin server on a
// free port. Like internal/testkit, only tests may import it.
package testworker
