// Package inference turns decoded events into model predictions.
//
// It owns:
//   - the ONNX Runtime environment: finding the shared library (FindLibrary)
//     and loading it once per process (InitRuntime);
//   - the Signature, the contract between Avro fields and the model's input
//     tensor (ParseSignature, Validate, MapRow) and how its output is read
//     (ReadOutput);
//   - models: sessions on an execution provider (cuda when the library and a
//     device have it, cpu otherwise; a CUDA provider that comes as a plugin
//     library is registered and its GPU added through the C API's
//     execution-provider devices, epdevice.go), a session pool with reused
//     tensors, and warm-up before a model is handed out (LoadModel,
//     Model.Infer);
//   - the batcher that groups rows by size and delay, sending a partial
//     batch early when inference waits for one (Policy, Batcher);
//   - the metrics of all of the above (NewMetrics).
//
// It does not know about Kafka: callers hand it records (as maps, or as
// values in schema order with Positions) and get float32 outputs back.
package inference
