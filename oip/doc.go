// Package oip serves the Open Inference Protocol (KServe / Triton "v2")
// over HTTP with JSON tensors: server and model health, model metadata, and
// inference. An infer request's named input tensors become one record per
// row (each input is named after a signature field, of any of the model's
// input tensors, and advertised with the datatype of that tensor), and the
// records are scored by the worker's synchronous path — the same batcher and
// ONNX Runtime sessions as the Kafka path — so a caller gets exactly the
// scores a prediction on the output topic carries for the same features.
// Outputs are the class probabilities and predicted class (or the score),
// and each output a prediction carries by name (vectors) under that name.
//
// Endpoints (register them on the admin server with Server.Register):
//
//	GET  /v2                                   server metadata
//	GET  /v2/health/live                       liveness
//	GET  /v2/health/ready                      readiness
//	GET  /v2/models/{name}[/versions/{v}]        model metadata
//	GET  /v2/models/{name}[/versions/{v}]/ready  model readiness
//	POST /v2/models/{name}[/versions/{v}]/infer  inference
//
// Errors are JSON objects {"error": "..."} with 400 for a request that
// does not fit the model (naming the input and row), 404 for an unknown
// model or version, and 503 while the worker is not ready.
package oip
