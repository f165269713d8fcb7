// Package quality measures how good the served model versions are, from
// ground truth that arrives after the predictions, and acts on it.
//
// It owns the Label (the ground truth of one event, on the labels topic),
// the Service that joins labels with predictions by event id, windowed live
// quality per model version and stage, the QualityReport event, the
// quality retrain trigger, and the live promotion policy.
//
// # Where the join runs
//
// The join runs in one service beside the retrainer, not in the workers.
// Labels are keyed by event id and predictions by the input's key, so no
// worker holds both halves of a join for the partitions it owns: a join in
// the workers would need every worker to read every label, or every
// prediction to be written to a shared store. The predictions topic
// already holds what every worker scored, with the version that scored it,
// so one consumer of predictions, predictions.shadow and labels sees the
// whole group however many workers there are, and the hot path pays
// nothing. The service holds predictions for their labels (MaxPending,
// PredictionTTL) and labels that come first (LabelWait) in memory; a
// restart starts the windows afresh. Like the retrainer's label buffer, it
// expects one instance per cluster.
//
// # Windows and reports
//
// Each labelled prediction goes to the open window of its model, version
// and stage (production or canary by the registry's state, shadow from the
// shadow topic). A window closes at WindowEvents labelled events, or after
// WindowDuration with MinWindowEvents, and is measured: AUC, log-loss,
// accuracy and expected calibration error for classifiers, MAE and RMSE
// for score models (whose labels carry a value). It is published as a
// QualityReport, exported as sluice_quality_* metrics and kept in Redis for
// the workers' status pages (NewStatusGatherer).
//
// # The quality retrain trigger
//
// A production window is degraded when its AUC falls more than Margin
// below the version's own holdout AUC (its registered "auc" metric), or
// its RMSE rises more than Margin (relative) above the holdout RMSE. The
// windows go through drift's Decision (its quality series) and Gate with
// the data-drift config, so RetrainK of RetrainM degraded windows send one
// RetrainRequested of kind quality, with the onset of the first degraded
// window, subject to the same per-version cooldown and hourly cap.
//
// # The live policy
//
// With Live.Enabled, every canary and shadow version is compared with
// production on labelled events: paired for a shadow (the same events),
// unpaired for a canary (other keys). Once each side has Live.MinEvents,
// a bootstrap of the AUC difference (or of RMSE) with Live.Resamples
// resamples gives one-sided bounds at Live.Confidence: a lower bound above
// zero promotes the challenger, an upper bound below zero keeps production
// (an evaluated model event), and Live.MaxEvents without either ends the
// comparison as inconclusive. Production is rolled back when, over its last
// MinEvents labelled events, its live AUC is more than Margin below the
// live AUC the version it replaced had over its last MinEvents in
// production. Every decision is a model event with its evidence.
package quality
