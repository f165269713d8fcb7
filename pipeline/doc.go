// Package pipeline is one sluice worker: a Kafka group reader, decode and
// mapping workers, the batcher, ONNX Runtime inference, prediction encoding
// and an asynchronous acks=all writer, joined by bounded channels.
//
// Acks travel with the data: every input message is tracked from the moment
// it is fetched, and its offset becomes committable only once its prediction
// (or its dead letter) has been acknowledged by the broker. The tracker
// commits, per partition, the contiguous prefix of acknowledged offsets, so
// delivery is at-least-once and duplicates after a crash are bounded by the
// in-flight cap.
//
// No record can stall a partition forever or be committed past without its
// output: a dead letter too large for its topic carries a prefix of the
// value (with the original size and SHA-256 in headers), a prediction too
// large is replaced by a dead letter of its input (output_too_large), and an
// output the writer gave up on is written again; after
// Config.WriteRetries more failures its input partition is stuck: paused,
// never committed past, reported by NotReady, one log line and
// sluice_partition_stuck, and retried with backoff until the write
// succeeds. NotReady lists every condition that stops the worker (see the
// Cond* names).
//
// Shutdown is in two phases: when the context passed to Run ends, the worker
// stops fetching, lets every stage drain and flush in order (decode → batch →
// infer → encode → produce), waits for the broker's acknowledgements, makes a
// final commit and leaves the group. If draining takes longer than the
// configured grace period, what is left is abandoned uncommitted (it will be
// redelivered) and Run returns.
package pipeline
