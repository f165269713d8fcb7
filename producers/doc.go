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
// It does not decide what to send; callers build the messages.
package producers
