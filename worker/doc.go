// Package worker builds one sluice worker on Kafka: the pipeline (package
// pipeline) on a consumer group's reader and offset tracker (its Source),
// an asynchronous acks=all writer (its Sink), the schema registry's decoder
// and the registered Prediction schema, and their metrics, from the
// pipeline's configuration and clients its caller built once. It is the
// only place a worker is wired: `sluice run` and `sluice dev` (through
// package server), the tests' worker (internal/testworker) and the
// benchmark (package bench) all call New.
//
// What a worker is made of, in the order an event meets it:
//
//	consumers.Reader + consumers.Tracker → source (source.go): pipeline.Source,
//	    with Pause/Resume, the commit loop, Close (leave the group) and the
//	    readiness conditions of the group (not_joined, topic_missing,
//	    broker_unreachable, stalled)
//	schemas.Decoder                     → pipeline.Decoder
//	schemas.Encoder (registered)        → pipeline.Deps.PredictionSchemaID
//	producers.AsyncWriter               → pipeline.Sink (opened by pipeline.New
//	                                      with the worker's completion)
//
// and the series only the Kafka side knows (metrics.go):
// sluice_consumer_lag_events and sluice_topic_missing.
package worker
