package drift

import "context"

// Sink sends drift's events on. The pipeline implements it with a Kafka
// writer: it encodes native (a goavro native map for schema) with the
// schema registered under topic's subject, frames it and writes it to
// topic with key (the model name), returning once the write is
// acknowledged. Emit must be safe for concurrent use; drift calls it from
// each Monitor's Run goroutine.
type Sink interface {
	Emit(ctx context.Context, topic, key string, native map[string]any, schema string) error
}
