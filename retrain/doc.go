// Package retrain is the built-in retrainer service: it answers retrain
// requests with new model versions.
//
// The Retrainer consumes RetrainRequested events and labels, joins each
// label with the input a worker kept for its event (KeptFeatures: package
// featurelog's Log on Redis), and for each request trains on the labelled
// traffic since the request's onset (TrainFrom says where it starts; it
// waits MaxLabelWait for MinRows such events, else announces a skipped
// model event), holds out the most recent fifth, scores the new network
// and the production version on it in ONNX Runtime, keeps the better
// weights, profiles the traffic since the onset, registers the version
// and applies the policy (manual, auto or live). It runs package quality's
// live quality service beside it. Export writes a request's labelled rows
// as an Avro container file for an external trainer.
//
// Training itself (the network, its ONNX writer, the demo and heavy
// models) is package training; the feature log the workers write is
// package featurelog. It does not serve traffic.
package retrain
