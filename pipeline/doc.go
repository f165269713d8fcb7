// Package pipeline is one sluice worker's stages, joined by bounded
// channels, on parts it is handed: a Source of fetched records that it
// tells what became of each, a Sink that writes with a completion
// callback, a Decoder, and the Models to score with (source.go, sink.go,
// decoder.go, models.go). It builds no client of its own: package worker
// builds those on Kafka (a consumer group's reader and offset tracker, an
// acks=all asynchronous writer, the schema registry's decoder); the
// pipeline's fast tests build them in memory.
//
// # One event, from fetch to commit
//
// New (worker.go) checks the Config (config.go), opens the sink with the
// worker's completion and makes the channels; Run (worker.go) starts every
// stage as a goroutine and the source's committer beside them.
//
//  1. fetch.go: the fetch stage takes the next record from the Source
//     (Next blocks while the source holds its in-flight cap) and hands it,
//     as an event (event.go), to the decode worker that owns its
//     partition, so that a partition's events stay in order.
//  2. decode.go: a decode worker checks the record's size, decodes it into
//     positional fields (schemas.Fields: one names slice per writer
//     schema, the one shape a record has here), reads its event id,
//     entity id and event time at positions planned once per schema
//     (event.go, fieldPlan; pipeline.fields), and maps the fields into the
//     model's tensor row (inference.Signature). A record that cannot be
//     read or mapped is dead-lettered with its class (package dlq; see
//     step 7); a schema registry that cannot be reached is waited out.
//  3. worker.go: the batcher (inference.Batcher, with Config.Batch) gathers
//     events into batches.
//  4. infer.go: the infer stage splits a batch by the version each key is
//     served by (a canary takes a share of keys), maps again the rows of a
//     model swapped in since decode, scores them in ONNX Runtime, retries
//     and splits a batch that fails until the rows that fail are
//     dead-lettered (class inference); shadow.go scores a sample on a
//     shadow version beside production. A model of several sessions
//     scores as many batches at once, and their events go on to the emit
//     stage in the order the batcher made the batches.
//  5. emit.go: the emit stage encodes one Prediction per event, keyed like
//     its input, and enqueues them on the sink in order. What the side
//     effects need it hands to the side stage (side.go), which runs the
//     drift tap (Observer) and the feature log (Keeper) beside it and
//     never holds it up.
//  6. write.go: enqueue gives the outputs to the Sink; one larger than its
//     topic takes is made to fit (oversize.go: a dead letter keeps a
//     prefix, a prediction is replaced by a dead letter of its input); one
//     the sink could not take, or gave up on, goes to the retrier
//     (retry.go), which writes it again with backoff and, after
//     Config.WriteRetries more failures, marks its input partition stuck:
//     paused, never committed past, reported by NotReady (ready.go).
//  7. write.go: the sink's completion (completed) runs once per written
//     group: it acknowledges each event's record to the Source (Ack) and
//     counts the prediction or dead letter and its latency (metrics.go).
//  8. source.go (Committer): the source's committer commits, per
//     partition, the contiguous prefix of acknowledged offsets, so a
//     record is never committed past before its prediction or dead letter
//     was acknowledged by the broker: delivery is at-least-once, and
//     duplicates after a crash are bounded by the in-flight cap.
//
// Predict (predict.go) sends a synchronous request's records (the Open
// Inference Protocol's, as maps: the one edge where a map comes in, laid
// out as fields at once) through steps 3 to 5, answered instead of
// written.
//
// # Shutdown
//
// Shutdown is in two phases: when the context passed to Run ends, the
// worker stops fetching, lets every stage drain and flush in order
// (decode → batch → infer → emit → side), closes the sink once every
// completion has run, lets the committer make a final commit and closes
// the source (a consumer group's member leaves it). If draining takes
// longer than Config.ShutdownGrace, what is left is abandoned uncommitted
// (it will be redelivered) and Run returns. No goroutine the worker
// started outlives Run.
package pipeline
