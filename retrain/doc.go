// Package retrain trains the models sluice serves and answers retrain
// requests.
//
// The Retrainer is the loop's service. It consumes RetrainRequested events
// and labels, joins each label with the input a worker kept for its event
// (KeptFeatures, the FeatureLog on Redis), and for each request trains on
// the labelled traffic since the request's onset (TrainFrom says where it
// starts; it waits MaxLabelWait for MinRows such events, else announces a
// skipped model event), holds out the most recent fifth, scores the new
// network and the production version on it, keeps the better weights,
// profiles the traffic since the onset, registers the version and applies
// the policy (manual, auto or live). It runs package quality's live quality
// service beside it. Export writes a request's labelled rows as an Avro
// container file for an external trainer.
//
// It also owns a small dense-network type (MLP) with a pure-Go reference
// forward pass, an ONNX writer that hand-encodes the protobuf (Gemm, Relu,
// Softmax, Sigmoid at opset 13), deterministic mini-batch training of
// logistic regression or a one-hidden-layer network with the feature
// standardisation folded into the exported weights, and the two models the
// project ships: the demo fraud model trained on package demo's generator,
// and a heavy random-weight network (256 → 1024 → 1024 → 2) for benchmarks.
//
// It does not serve traffic: models leave this package as model.onnx plus
// signature.yaml (WriteModelDir) or as bytes for the registry.
package retrain
