// Package server wires one production worker from a config.Config: it loads
// the ONNX Runtime library and the model, connects to the schema registry,
// registers the prediction schema, builds the pipeline and runs it beside
// the admin HTTP server. `sluice run` and `sluice dev` both use it.
package server
