package quality

import (
	"math"
	"time"
)

// QualityReportSchema is the Avro schema of a QualityReport, the text of
// schemas/avro/quality_report.avsc (a test keeps them equal).
const QualityReportSchema = `{
  "type": "record",
  "name": "QualityReport",
  "namespace": "sluice",
  "doc": "Live quality of one model version in one stage over one window of labelled predictions; on the quality-reports topic, keyed by model name.",
  "fields": [
    {"name": "report_id", "type": "string", "doc": "Unique id of the window: <quality service epoch>-<sequence>."},
    {"name": "model_name", "type": "string"},
    {"name": "model_version", "type": "string"},
    {"name": "stage", "type": "string", "doc": "production, canary or shadow: the stage the version scored the events in."},
    {"name": "window_seq", "type": "long", "doc": "Sequence number of the window within the version and stage."},
    {"name": "window_start", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "The earliest event time of the window's labelled events."},
    {"name": "window_end", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "The latest event time of the window's labelled events."},
    {"name": "labelled", "type": "long", "doc": "Labelled events in the window."},
    {"name": "positives", "type": "long", "doc": "Labelled events of the last (positive) class; 0 for a score model."},
    {"name": "auc", "type": ["null", "double"], "default": null, "doc": "ROC AUC of the last class (two classes) or the mean one-vs-rest AUC; null without both classes."},
    {"name": "log_loss", "type": ["null", "double"], "default": null},
    {"name": "accuracy", "type": ["null", "double"], "default": null, "doc": "Share of events whose most probable class is the true one."},
    {"name": "calibration_error", "type": ["null", "double"], "default": null, "doc": "Expected calibration error over ten equal-width bins of the positive class's probability (two classes) or the top class's."},
    {"name": "mean_score", "type": ["null", "double"], "default": null, "doc": "Mean probability of the last class; compare with positives / labelled."},
    {"name": "mae", "type": ["null", "double"], "default": null, "doc": "Score models: mean absolute error."},
    {"name": "rmse", "type": ["null", "double"], "default": null, "doc": "Score models: root mean squared error."},
    {"name": "holdout_auc", "type": ["null", "double"], "default": null, "doc": "The version's own holdout AUC, from its registered metrics."},
    {"name": "holdout_rmse", "type": ["null", "double"], "default": null, "doc": "The version's own holdout RMSE, from its registered metrics."},
    {"name": "margin", "type": "double", "doc": "How far live quality may fall behind the holdout before a production window is degraded; -1: not checked."},
    {"name": "degraded", "type": "boolean", "doc": "A production window whose live quality fell more than margin behind the version's holdout quality."},
    {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}}
  ]
}`

// Report is one closed window of one model version in one stage: what a
// QualityReport carries. It is plain data.
type Report struct {
	ID             string
	Model, Version string
	Stage          string
	Seq            int64
	// Start and End are the earliest and latest event time of the
	// window's labelled events.
	Start, End time.Time
	Quality
	// HoldoutAUC and HoldoutRMSE are the version's registered holdout
	// metrics (NaN when it has none).
	HoldoutAUC, HoldoutRMSE float64
	Margin                  float64
	Degraded                bool
	CreatedAt               time.Time
}

// Native returns r as a goavro native map for QualityReportSchema. It is
// safe for concurrent use.
func (r *Report) Native() map[string]any {
	opt := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return map[string]any{"double": v}
	}
	return map[string]any{
		"report_id": r.ID, "model_name": r.Model, "model_version": r.Version, "stage": r.Stage,
		"window_seq": r.Seq, "window_start": r.Start, "window_end": r.End,
		"labelled": int64(r.Labelled), "positives": int64(r.Positives),
		"auc": opt(r.AUC), "log_loss": opt(r.LogLoss), "accuracy": opt(r.Accuracy),
		"calibration_error": opt(r.Calibration), "mean_score": opt(r.MeanScore),
		"mae": opt(r.MAE), "rmse": opt(r.RMSE),
		"holdout_auc": opt(r.HoldoutAUC), "holdout_rmse": opt(r.HoldoutRMSE),
		"margin": r.Margin, "degraded": r.Degraded, "created_at": r.CreatedAt,
	}
}

// degraded reports whether a production window's quality q fell more than
// margin behind the holdout: its AUC below holdout AUC - margin by more
// than z standard errors (Hanley and McNeil's, from the AUC and the counts
// of each class; z is the one-sided quantile of the configured
// confidence), or its RMSE above holdout RMSE * (1 + margin). A window with
// nothing to compare is not.
func degraded(q Quality, holdoutAUC, holdoutRMSE, margin, z float64) bool {
	if margin < 0 {
		return false
	}
	if !math.IsNaN(q.AUC) && !math.IsNaN(holdoutAUC) {
		return q.AUC+z*aucStdErr(q.AUC, q.Positives, q.Labelled-q.Positives) < holdoutAUC-margin
	}
	if !math.IsNaN(q.RMSE) && !math.IsNaN(holdoutRMSE) {
		return q.RMSE > holdoutRMSE*(1+margin)
	}
	return false
}

// aucStdErr is Hanley and McNeil's standard error of an AUC a measured on
// pos positive and neg negative rows.
func aucStdErr(a float64, pos, neg int) float64 {
	if pos < 1 || neg < 1 {
		return math.Inf(1)
	}
	q1, q2 := a/(2-a), 2*a*a/(1+a)
	n1, n2 := float64(pos), float64(neg)
	v := (a*(1-a) + (n1-1)*(q1-a*a) + (n2-1)*(q2-a*a)) / (n1 * n2)
	return math.Sqrt(math.Max(0, v))
}
