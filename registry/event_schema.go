package registry

// ModelEventSchema is the Avro schema of a ModelEvent, the text of
// schemas/avro/model_event.avsc (a test keeps them equal). Encode
// Event.Native with it.
const ModelEventSchema = `{
  "type": "record",
  "name": "ModelEvent",
  "namespace": "sluice",
  "doc": "A change to a model in the registry, a worker refusing a version, or a retrain or live-evaluation decision that changed nothing; on the model-events topic, keyed by model name.",
  "fields": [
    {"name": "event_id", "type": "string", "doc": "Unique id of this event."},
    {"name": "type", "type": {"type": "enum", "name": "ModelEventType", "symbols": ["registered", "promoted", "rolled_back", "refused", "skipped", "evaluated"]}},
    {"name": "model_name", "type": "string"},
    {"name": "model_version", "type": "string", "doc": "The version registered, promoted, rolled back to, refused or evaluated; for skipped, the version whose retrain request was skipped."},
    {"name": "stage", "type": "string", "doc": "The version's stage after the change: candidate, shadow, canary, production or archived; for refused, the stage it was refused for."},
    {"name": "previous_version", "type": ["null", "string"], "default": null, "doc": "The version that held the stage before: the production version replaced by a promotion or rolled back from."},
    {"name": "traffic_percent", "type": ["null", "double"], "default": null, "doc": "For canary, the percentage of keys it serves; for shadow, the percentage of events it scores."},
    {"name": "sha256", "type": ["null", "string"], "default": null, "doc": "Hex sha256 of the ONNX model, as registered."},
    {"name": "reason", "type": ["null", "string"], "default": null, "doc": "Why: the operator's note, the check a refused version failed, or the policy's decision in words."},
    {"name": "worker_id", "type": ["null", "string"], "default": null, "doc": "The worker that refused the version; null for registry changes."},
    {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "request_id", "type": ["null", "string"], "default": null, "doc": "The retrain request (its event_id) the change answers."},
    {"name": "evidence", "type": ["null", {"type": "map", "values": "double"}], "default": null, "doc": "The numbers a decision was taken on: holdout and live metrics, sample sizes, confidence bounds; a registered version's metrics."}
  ]
}`
