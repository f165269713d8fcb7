// Package inference turns decoded events into model predictions.
//
// It owns:
//   - the ONNX Runtime environment: finding the shared library (FindLibrary)
//     and loading it once per process (InitRuntime);
//   - the Signature, the contract between Avro fields and the model's input
//     tensors (ParseSignature, Validate, MapRecordInto, MapFieldsInto, and
//     MapRow/MapFields for float32 rows) and how its outputs are read
//     (Model.ReadOutput, Model.AppendNamed): several named inputs of any
//     element type and shape (a fixed or dynamic batch dimension, or none),
//     and outputs of six kinds (probabilities, zipmap, label, logits,
//     score, vector);
//   - models: sessions on an execution provider (cuda when the library and a
//     device have it, cpu otherwise; a CUDA provider that comes as a plugin
//     library is registered and its GPU added through the C API's
//     execution-provider devices, epdevice.go), a session pool with reused
//     tensors, ZipMap classes read from a first run, and warm-up before a
//     model is handed out, at the model's own batch size (LoadModel,
//     Model.InferRows);
//   - the batcher that groups rows by size and delay, sending a partial
//     batch early when inference waits for one (Policy, Batcher);
//   - the metrics of all of the above (NewMetrics).
//
// It does not know about Kafka: callers hand it records (as maps, or as
// values in schema order with Positions), mapped into Rows, and get each
// event's outputs back as one row of float32 values.
package inference
