package config

import (
	"fmt"
	"time"
)

// Retrain is the worker's side of retraining: whether it keeps each scored
// event's input in Redis, how many and for how long, so that `sluice
// retrain` can join it with the labels that arrive later.
type Retrain struct {
	KeepFeatures bool `yaml:"keep_features"`
	// FeatureTTL is the longest an event is kept.
	FeatureTTL time.Duration `yaml:"feature_ttl"`
	// MaxKeptEvents caps the events kept, the most recent ones, shared by
	// every worker on the Redis: what Redis holds is bounded by this, not by
	// throughput × feature_ttl. The retrainer trains on at most its
	// buffer_size (50,000) labelled events; the default, 200,000, leaves room
	// for labels that arrive a while after their events.
	MaxKeptEvents int `yaml:"max_kept_events"`
}

// Validate checks the retention.
func (r Retrain) Validate() error {
	if r.KeepFeatures && r.FeatureTTL <= 0 {
		return fmt.Errorf("retrain.feature_ttl: must be positive when keep_features is on, got %s", r.FeatureTTL)
	}
	if r.MaxKeptEvents < 0 {
		return fmt.Errorf("retrain.max_kept_events: must not be negative, got %d", r.MaxKeptEvents)
	}
	return nil
}
