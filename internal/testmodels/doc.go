// Package testmodels finds the ONNX models that the model-shape tests
// serve: the fixtures in inference/testdata/models (made by generate.py
// there, with golden.json: their outputs on fixed rows, computed by the
// framework that defines each model), and the test models that
// onnxruntime_go ships in the Go module cache. Like internal/testkit, only
// tests may import it.
package testmodels
