// Package registry keeps model versions and their stages in Redis and
// brings the workers onto the version that is promoted.
//
// It owns:
//   - the registry (New): per model name, versions numbered 1, 2, … with the
//     ONNX blob (or a file reference for large models), its sha256 and size,
//     the signature YAML, the reference profile, training metrics and the
//     creation time, each in a stage: candidate, shadow, canary, production
//     or archived. Register, Promote and Rollback are atomic (WATCH/MULTI on
//     the model's state key) and each is announced on the Redis channel
//     sluice:models:events:<name> and to an Emitter (the model-events topic);
//     a version taking production starts its retrain decision afresh
//     (drift.ResetDecision); Notify announces decisions that change
//     nothing (a skipped retrain, a live evaluation) the same way;
//   - fetching a version for serving (Fetch): the size cap and the sha256
//     are checked before a byte reaches ONNX Runtime;
//   - registration checks: the model loads with its signature, and the
//     reference profile profiles columns the signature reads;
//   - drafting a signature from a model's inputs and outputs and an Avro
//     record schema (DraftSignature, behind `sluice models init`);
//   - the Watcher each worker runs: it follows the model's production,
//     canary and shadow versions (pub/sub, with a periodic check as
//     fallback), loads a new version off the hot path, checks it (against
//     the input schema as it is at that moment, waiting while there is
//     none), and hands it to an inference.Swapper; a version that fails a
//     check is refused (log, metric, ModelEvent) and the old one keeps
//     serving. Each check writes what the worker serves and holds back to
//     Redis (Registry.Workers) and to sluice_model_held_info.
//
// Keys live under sluice:models:. Everything one model owns carries the hash
// tag {name} (sluice:models:{fraud}:state, …), so a model's changes stay in
// one Redis Cluster slot; sluice:models:names lists the models.
package registry
