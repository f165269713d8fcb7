package drift

import "time"

// Kinds of retrain request, the kind field of RetrainRequested.
const (
	// KindDrift: the inputs or the prediction scores moved away from the
	// version's reference profile.
	KindDrift = "drift"
	// KindQuality: live quality measured from labels fell below the
	// version's own holdout quality.
	KindQuality = "quality"
)

// RetrainRequest is what a RetrainRequested event carries. It is a plain
// value.
type RetrainRequest struct {
	// EventID is derived from the model version and the triggering window,
	// so a retried emission carries the same id: consumers use it as the
	// idempotency key.
	EventID string
	Model   string
	Version string
	Reason  string
	// Kind is KindDrift or KindQuality ("" is KindDrift).
	Kind string
	// Features are the input features that drifted in the triggering
	// windows, each with its statistics from the latest window it drifted in.
	Features []FeatureResult
	// Prediction is set when the prediction scores drifted too.
	Prediction *FeatureResult
	// WindowIDs are the flagged windows that triggered the request, oldest
	// first.
	WindowIDs []string
	// Onset is the start of the episode's first window: a retrainer trains
	// on the traffic scored from then on.
	Onset time.Time
	// Windows are the last RetrainM windows of the series that decided,
	// flagged or not, oldest first.
	Windows []WindowSpan
	// Quality is what a KindQuality request measured; nil otherwise.
	Quality     *QualityDrop
	RequestedAt time.Time
}

// WindowSpan is one window a retrain decision looked at. It is a plain
// value.
type WindowSpan struct {
	ID string
	// Start and End bound the window: for drift windows the first and last
	// flush into it, for quality windows the earliest and latest event time
	// of its labelled events.
	Start, End time.Time
	Events     int64
	// Flagged is set when the window belongs to the episode: it drifted in
	// a feature (or the scores) the newest window drifted in, or it was
	// degraded.
	Flagged bool
}

// QualityDrop is what a quality request measured: Live fell more than
// Margin behind Reference. It is a plain value.
type QualityDrop struct {
	// Metric is "auc" for classifiers, "rmse" for scores.
	Metric    string
	Live      float64
	Reference float64
	Margin    float64
	// Labelled is the number of labelled events behind Live.
	Labelled int64
}
