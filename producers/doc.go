// Package producers writes sluice's output to Kafka: predictions, dead
// letters, drift reports and retrain requests.
//
// It owns the kafka-go Writer setup (WriterConfig, NewWriter): acks from all
// in-sync replicas, Java-compatible murmur2 partitioning by key (so a key
// lands on the partition a Java or librdkafka producer would pick, and one
// key's messages stay in order), no topic auto-creation, and a small batch
// timeout. Write is synchronous: it returns once every message is
// acknowledged, which is what lets the caller commit the input offsets
// behind them.
//
// AsyncWriter is the pipeline's hot path, built on kafka-go's protocol
// Client rather than its Writer: Enqueue returns at once, every produce
// request's outcome reaches a completion func with the messages in it, and
// each partition keeps one request in flight, sending what gathered while
// it was out as soon as it is answered. Batches therefore grow with the load
// and a message at an idle partition waits for no timer; the same
// partitioning, acks and retries as the Writer apply. A record batch never
// exceeds the smaller of batch_bytes and the topic's max.message.bytes
// (read with the topic's metadata); a message that could not fit is
// refused at Enqueue with a TooLargeError naming it, so the caller can
// make it fit (MessageLimit, MessageSize). Close waits for every
// completion; what is still being retried when its timeout passes is
// completed with ErrClosed, so no sender outlives it.
//
// EventSink publishes sluice's own events (drift reports, retrain
// requests, quality reports, model events) through a Writer, registering
// each event's schema under <topic>-value on first use.
//
// It does not decide what to send; callers build the messages.
package producers
