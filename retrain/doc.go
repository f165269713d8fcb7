// Package retrain trains the models sluice serves and exports them as ONNX.
//
// It owns a small dense-network type (MLP) with a pure-Go reference forward
// pass, an ONNX writer that hand-encodes the protobuf (Gemm, Relu, Softmax,
// Sigmoid at opset 13), deterministic mini-batch training of logistic
// regression or a one-hidden-layer network with the feature standardisation
// folded into the exported weights, and the two models the project ships:
// the demo fraud model trained on package demo's generator, and a heavy
// random-weight network (256 → 1024 → 1024 → 2) for benchmarks.
//
// It does not serve traffic: models leave this package as model.onnx plus
// signature.yaml (WriteModelDir) or as bytes for the registry.
package retrain
