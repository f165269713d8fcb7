// Package testkit starts the real servers that tests run against: an
// in-process Kafka-protocol broker (franz-go's kfake) listening on TCP, and a
// real redis-server on a free port. It also initialises the ONNX Runtime
// library for tests. Only _test.go files may import it.
package testkit
