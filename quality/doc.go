// Package quality measures how good the served model versions are, from
// ground truth that arrives after the predictions, and acts on it.
//
// It owns the Label (the ground truth of one event, on the labels topic),
// the join of labels with predictions by event id, windowed live quality
// per model version and stage, the QualityReport event, the quality
// retrain trigger, and the live promotion policy.
package quality
