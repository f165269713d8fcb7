// Package server runs one production process from a config.Config: it
// loads the ONNX Runtime library, builds the Kafka and Redis clients from
// the config's TLS and SASL settings once, and serves every route of the
// config (config.Effective; one route without routes:).
//
// Per distinct model (models.go): one Swapper, so one set of ONNX Runtime
// sessions with its share of inference.thread_budget, its model_dir
// version if it has one, and one registry watcher that hot-swaps it for
// every route serving it. Per route (routes.go): a worker (package
// worker: the pipeline on the route's consumer group and an acks=all
// writer), its drift tap and drift follower (windows keyed by route), its
// series under route="<name>"; a route waits for its model's first version
// before joining its group. Beside them runs the admin HTTP server
// (metrics, /readyz listing every route, the status page, the Open
// Inference Protocol for every route's model). `sluice run` and `sluice
// dev` both use it.
package server
