package status

import (
	"math"
	"slices"
	"strings"
)

// qualityKey names one version's live quality in one stage.
type qualityKey struct {
	Model, Version, Stage string
}

// Quality is one model version's live quality in one stage, over the
// latest window of labelled predictions the quality service closed (it
// runs beside the retrainer and keeps it in Redis, where the worker's
// gatherer reads it). Numbers it did not measure are null.
type Quality struct {
	Model       string `json:"model"`
	Version     string `json:"version"`
	Stage       string `json:"stage"`
	Labelled    Num    `json:"labelled"`
	AUC         Num    `json:"auc"`
	LogLoss     Num    `json:"log_loss"`
	Accuracy    Num    `json:"accuracy"`
	Calibration Num    `json:"calibration_error"`
	MAE         Num    `json:"mae"`
	RMSE        Num    `json:"rmse"`
	HoldoutAUC  Num    `json:"holdout_auc"`
	Degraded    bool   `json:"degraded"`
}

// qualityRow returns the row of k in s, creating it with every number null.
func (s *snapshot) qualityRow(k qualityKey) *Quality {
	q := s.quality[k]
	if q == nil {
		nan := Num(math.NaN())
		q = &Quality{Model: k.Model, Version: k.Version, Stage: k.Stage, Labelled: nan, AUC: nan, LogLoss: nan,
			Accuracy: nan, Calibration: nan, MAE: nan, RMSE: nan, HoldoutAUC: nan}
		s.quality[k] = q
	}
	return q
}

// qualityRows lists s's live quality by model, stage and version.
func (s *snapshot) qualityRows() []Quality {
	out := make([]Quality, 0, len(s.quality))
	for _, q := range s.quality {
		out = append(out, *q)
	}
	slices.SortFunc(out, func(a, b Quality) int {
		return strings.Compare(a.Model+"\x00"+a.Stage+"\x00"+a.Version, b.Model+"\x00"+b.Stage+"\x00"+b.Version)
	})
	return out
}
