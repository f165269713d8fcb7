// Package bench measures sluice against its own limits in one process on
// one machine, so that every figure it reports can be read as a ratio of two
// numbers taken side by side: ONNX Runtime alone on pre-filled tensors
// (raw), the consume → produce → commit loop with no decode and no inference
// (passthrough), the full worker at its default batching and at batch 1, and
// end-to-end latency under an open-loop load at 50% and 80% of the measured
// maximum, and the total throughput of 1 and 4 demo-model routes in one
// process (on the process's ONNX Runtime thread budget, and with every
// session given every thread). It runs against the in-process Kafka-protocol broker over TCP,
// a redis-server child (internal/redisproc) and the embedded registry
// (schemas.Listen), and builds its workers with package worker, as `sluice
// run` does.
package bench
