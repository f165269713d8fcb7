package config

import (
	"fmt"
	"time"
)

// Retrain is the worker's side of retraining: whether it keeps each scored
// event's input in Redis, and for how long, so that `sluice retrain` can
// join it with the labels that arrive later.
type Retrain struct {
	KeepFeatures bool          `yaml:"keep_features"`
	FeatureTTL   time.Duration `yaml:"feature_ttl"`
}

// Validate checks the retention.
func (r Retrain) Validate() error {
	if r.KeepFeatures && r.FeatureTTL <= 0 {
		return fmt.Errorf("retrain.feature_ttl: must be positive when keep_features is on, got %s", r.FeatureTTL)
	}
	return nil
}
