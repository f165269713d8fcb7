// Package schemas owns everything sluice knows about Avro and the Confluent
// schema registry:
//
//   - the .avsc files of the demo topics, embedded in the binary
//     (TransactionSchema, PredictionSchema) and the subject naming rule
//     (Subject, TopicNameStrategy);
//   - Confluent wire framing: a zero magic byte, a 4-byte big-endian schema
//     id, then the Avro binary body (AppendFrame, ParseFrame);
//   - a REST client for any Confluent-compatible registry (Client), which
//     caches schemas by id and tells a schema that does not exist
//     (ErrUnknownSchema: dead-letter the record) from a registry that cannot
//     be reached (ErrRegistryUnavailable: retry, never dead-letter);
//   - the embedded registry server (Server), speaking the same REST API
//     with its state in Redis under sluice:registry:*, and Listen, the one
//     way it is served: by `sluice dev`, the benchmark and the tests;
//   - decoding framed records with the writer's schema, so that older and
//     newer schema versions both read (Decoder): into positional Fields on
//     the worker's hot path (DecodeFields), into maps read by field name at
//     the edges that want one (Decode: tail, the retrainer's join); and
//     encoding maps into framed records (Encoder);
//   - limits that keep hostile input from allocating more than a small
//     multiple of its own size (see limits.go).
//
// The package does not talk to Kafka.
package schemas
