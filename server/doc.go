// Package server runs one production worker from a config.Config: it
// loads the ONNX Runtime library and the model, builds the Kafka and Redis
// clients from the config's TLS and SASL settings, the worker (package
// worker: the pipeline on a consumer group and an acks=all writer), the
// registry watcher that hot-swaps versions, the drift follower and the
// feature log, and runs the worker beside the admin HTTP server (metrics,
// readiness, the status page, the Open Inference Protocol). `sluice run`
// and `sluice dev` both use it.
package server
