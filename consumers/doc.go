// Package consumers reads feature events from Kafka and decides when their
// offsets may be committed.
//
// It owns:
//   - the group reader (ReaderConfig, NewReader): a kafka-go consumer-group
//     Reader used only through FetchMessage, with synchronous commits that
//     this package sends itself, stamped with the group generation they were
//     decided in (never the library's auto-commit or its commit queue);
//   - the offset tracker (Tracker): per partition it remembers the offsets
//     fetched and the offsets acknowledged (a prediction or a dead letter was
//     written with acks=all), and commits only the contiguous acknowledged
//     prefix, so an offset is never committed before every event up to it is
//     done. It also bounds the events in flight (backpressure);
//   - dead-letter messages for input that cannot be read (DeadLetter,
//     ParseDeadLetter): the original key, value and headers, plus sluice.*
//     headers naming the error and the source;
//   - the metrics of the above (NewMetrics).
//
// Delivery is at least once. After a crash, or after a rebalance moves a
// partition, events past the committed offset are delivered again; how many
// is bounded by the tracker's in-flight limit, which counts every event
// fetched and not yet committed. A committed offset never moves backwards:
// after a rebalance a partition is committed only by the member it was
// fetched by in the new generation.
//
// It knows nothing about Avro or ONNX; decoding and writing are the
// caller's business.
package consumers
