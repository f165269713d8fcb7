// Package training trains the models sluice ships and retrains: a small
// dense network type (MLP) with a pure-Go reference forward pass, an ONNX
// writer that hand-encodes the protobuf (Gemm, Relu, Softmax, Sigmoid at
// opset 13), deterministic mini-batch training of logistic regression or a
// one-hidden-layer network with the feature standardisation folded into
// the exported weights (Train), and the two models the project ships: the
// demo fraud model trained on package demo's generator (DemoSignature,
// TrainDemoModel) and a heavy random-weight network (256 → 1024 → 1024 →
// 2) for benchmarks (HeavyMLP, HeavySignature).
//
// Models leave it as model.onnx plus signature.yaml (WriteModelDir) or as
// bytes for the registry (WriteONNX). The retrainer service (package
// retrain), the dev stack, the benchmark and the tests use it; it runs no
// service and touches neither Kafka nor Redis.
package training
