// Package consumers reads feature events from Kafka and decides when their
// offsets may be committed.
//
// It owns:
//   - the group reader (ReaderConfig, NewReader): membership through
//     kafka-go's own consumer-group API (kafka.ConsumerGroup: each
//     Generation, its id, member id and assignments), one fetcher per
//     assigned partition started in the generation (Generation.Start) at
//     the offset the group committed, and commits sent through the
//     generation they were decided in (Generation.CommitOffsets), which the
//     broker refuses once the group has moved on. It watches the cluster's
//     metadata: a missing topic (its own, or one its user needs) holds
//     fetching and is reported by Health; a partition count change makes
//     the member rejoin. Lag is measured against the group's committed
//     offsets;
//   - the offset tracker (Tracker): messages are fetched through it; per
//     partition it remembers the offsets handed out and the offsets
//     acknowledged (a prediction or a dead letter was written with
//     acks=all), and commits only the contiguous acknowledged prefix, so an
//     offset is never committed before every event up to it is done. It
//     bounds the events in flight (backpressure), pauses partitions whose
//     output cannot be written, drains and commits at the end of each
//     generation, and keeps a partition's state into the next generation
//     when the group's position shows nobody else touched it;
//   - dead-letter messages for input that cannot be read (DeadLetter,
//     ParseDeadLetter, ShrinkDeadLetter): the original key, value and
//     headers, plus sluice.* headers naming the error and the source; one
//     too large for its topic keeps a prefix of the value, with the
//     original size and SHA-256 in headers;
//   - the metrics of the above (NewMetrics).
//
// Delivery is at least once. A commit never passes an offset that was
// fetched and not resolved (acknowledged here, or processed by another
// member that committed past it), whatever the generations in between.
// After a crash, events past the committed offset are delivered again; how
// many is bounded by the tracker's in-flight limit, which counts every
// event fetched and not yet committed. A committed offset never moves
// backwards: a partition is committed only through a generation in which
// it is assigned to this member.
//
// It knows nothing about Avro or ONNX; decoding and writing are the
// caller's business.
package consumers
