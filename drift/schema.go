package drift

// The Avro schemas of the events drift emits, in namespace sluice. They
// are the text of schemas/avro/drift_report.avsc and
// schemas/avro/retrain_requested.avsc (a test keeps them equal), passed to
// Sink.Emit so the sink can register and encode with them.
const (
	// DriftReportSchema is the schema of a DriftReport.
	DriftReportSchema = `{
  "type": "record",
  "name": "DriftReport",
  "namespace": "sluice",
  "doc": "The drift evaluation of one closed window of a model version's traffic, merged across workers; on the drift-reports topic, keyed by model name.",
  "fields": [
    {"name": "window_id", "type": "string", "doc": "Unique id of the window: <redis state epoch>-<sequence>."},
    {"name": "window_seq", "type": "long", "doc": "Sequence number of the window within the model version."},
    {"name": "model_name", "type": "string"},
    {"name": "model_version", "type": "string"},
    {"name": "window_start", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "First flush into the window."},
    {"name": "window_end", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "Last flush into the window."},
    {"name": "events", "type": "long"},
    {"name": "lost_events", "type": "long", "doc": "Events a worker dropped during a long Redis outage."},
    {"name": "workers", "type": "int", "doc": "Workers that contributed events."},
    {"name": "incomplete", "type": "boolean", "doc": "Some counts arrived late or were lost; not used for retrain decisions."},
    {"name": "drifted", "type": "boolean", "doc": "Any feature or the predictions drifted."},
    {"name": "p_value", "type": "double", "doc": "Family-wise significance; each test uses its threshold (Bonferroni)."},
    {"name": "psi_threshold", "type": "double"},
    {"name": "features", "type": {"type": "array", "items": {
      "type": "record",
      "name": "FeatureDrift",
      "doc": "One feature's test in one window.",
      "fields": [
        {"name": "feature", "type": "string"},
        {"name": "kind", "type": "string", "doc": "numeric or categorical."},
        {"name": "test", "type": "string", "doc": "ks (binned two-sample Kolmogorov-Smirnov) or chi2 (chi-squared homogeneity)."},
        {"name": "statistic", "type": "double", "doc": "KS distance D, or the chi-squared statistic."},
        {"name": "p_value", "type": "double"},
        {"name": "threshold", "type": "double", "doc": "The p-value below which the test counts as drift."},
        {"name": "psi", "type": "double", "doc": "Population stability index against the training profile."},
        {"name": "psi_threshold", "type": "double"},
        {"name": "drifted", "type": "boolean"},
        {"name": "missing", "type": "double", "doc": "Share of missing values in the window."}
      ]
    }}},
    {"name": "prediction", "type": ["null", "FeatureDrift"], "default": null, "doc": "The prediction-score test; null when the profile has no score histogram."},
    {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}}
  ]
}`

	// RetrainRequestedSchema is the schema of a RetrainRequested.
	RetrainRequestedSchema = `{
  "type": "record",
  "name": "RetrainRequested",
  "namespace": "sluice",
  "doc": "A model version's live traffic no longer looks like its training data, or its live quality fell; on the retrain-requests topic, keyed by model name.",
  "fields": [
    {"name": "event_id", "type": "string", "doc": "Idempotency key: the same for a re-sent request."},
    {"name": "model_name", "type": "string"},
    {"name": "model_version", "type": "string"},
    {"name": "reason", "type": "string"},
    {"name": "features", "type": {"type": "array", "items": {
      "type": "record",
      "name": "FeatureDrift",
      "doc": "One feature's test in one window.",
      "fields": [
        {"name": "feature", "type": "string"},
        {"name": "kind", "type": "string", "doc": "numeric or categorical."},
        {"name": "test", "type": "string", "doc": "ks (binned two-sample Kolmogorov-Smirnov) or chi2 (chi-squared homogeneity)."},
        {"name": "statistic", "type": "double", "doc": "KS distance D, or the chi-squared statistic."},
        {"name": "p_value", "type": "double"},
        {"name": "threshold", "type": "double", "doc": "The p-value below which the test counts as drift."},
        {"name": "psi", "type": "double", "doc": "Population stability index against the training profile."},
        {"name": "psi_threshold", "type": "double"},
        {"name": "drifted", "type": "boolean"},
        {"name": "missing", "type": "double", "doc": "Share of missing values in the window."}
      ]
    }}, "doc": "The input features that drifted, with their latest statistics."},
    {"name": "prediction", "type": ["null", "FeatureDrift"], "default": null, "doc": "The prediction-score test, when the predictions drifted."},
    {"name": "window_ids", "type": {"type": "array", "items": "string"}, "doc": "The drifted windows that triggered the request, oldest first."},
    {"name": "requested_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "kind", "type": "string", "default": "drift", "doc": "drift: the inputs or the scores moved away from the reference profile; quality: live quality measured from labels fell below the version's holdout quality."},
    {"name": "onset", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null, "doc": "Start of the episode's first drifted (or degraded) window; null from senders that predate it."},
    {"name": "windows", "type": {"type": "array", "items": {
      "type": "record",
      "name": "RequestWindow",
      "doc": "One of the windows the decision looked at.",
      "fields": [
        {"name": "window_id", "type": "string"},
        {"name": "start", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "Drift windows: the first flush into the window; quality windows: the earliest event time of its labelled events."},
        {"name": "end", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "Drift windows: the last flush into the window; quality windows: the latest event time of its labelled events."},
        {"name": "events", "type": "long", "doc": "Events binned (drift) or labelled events (quality) in the window."},
        {"name": "flagged", "type": "boolean", "doc": "The window belongs to the episode: it drifted in a feature (or the scores) the newest window drifted in, or it was degraded."}
      ]
    }}, "default": [], "doc": "The last retrain_m windows of the series that decided, oldest first."},
    {"name": "quality", "type": ["null", {
      "type": "record",
      "name": "QualityDrop",
      "doc": "What a quality request measured.",
      "fields": [
        {"name": "metric", "type": "string", "doc": "The metric compared: auc for classifiers, rmse for scores."},
        {"name": "live", "type": "double", "doc": "The metric over the latest degraded window."},
        {"name": "reference", "type": "double", "doc": "The version's own holdout value of the metric."},
        {"name": "margin", "type": "double", "doc": "How far live may fall behind the reference before a window counts as degraded."},
        {"name": "labelled", "type": "long", "doc": "Labelled events in the latest degraded window."}
      ]
    }], "default": null, "doc": "Set for kind quality."}
  ]
}`
)
