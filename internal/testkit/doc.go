// Package testkit starts the third-party servers tests run against: an
// in-process Kafka-protocol broker (franz-go's kfake) listening on TCP,
// restartable on its port (StartKafka), and a real redis-server child on a
// free port, killed and restarted for outages (StartRedis, on
// internal/redisproc as the bench and `sluice dev` run theirs). Run keeps
// a component's Run(ctx) going for a test's length. The parts of the test
// stack that are sluice's own — the schema registry, ONNX Runtime and the
// demo model, a running worker — are in internal/testworker, which builds
// on this package (schemas' own tests use testkit, so it imports no sluice
// package but redisproc). Only _test.go files may import it.
package testkit
