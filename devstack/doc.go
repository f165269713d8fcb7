// Package devstack runs the whole sluice stack in one process on embedded
// defaults: an in-process Kafka-protocol broker (franz-go's kfake) with its
// log under the data directory, topics created on first use and Kafka's
// time and size retention applied (Broker), Redis (a redis-server child
// process through internal/redisproc, its data under the data directory,
// never outliving the stack and replacing one a crashed run left behind;
// or an in-process stand-in when none is installed), the
// Confluent-compatible schema registry, the demo model, the retrainer and
// one worker. `sluice dev` and `sluice demo` use it.
package devstack
