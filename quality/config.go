package quality

import (
	"fmt"
	"time"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/internal/keyerr"
)

// Config configures the quality service (the retrainer's quality section).
// Zero fields take the defaults named beside them. It is a plain value.
type Config struct {
	// PredictionsTopic and ShadowTopic are where workers publish
	// predictions (defaults predictions and predictions.shadow), LabelsTopic
	// where ground truth arrives (default labels), ReportsTopic where
	// QualityReports go (default quality-reports).
	PredictionsTopic string `yaml:"predictions_topic"`
	ShadowTopic      string `yaml:"shadow_topic"`
	LabelsTopic      string `yaml:"labels_topic"`
	ReportsTopic     string `yaml:"reports_topic"`
	// Group prefixes the consumer groups, one per topic (default
	// sluice-quality).
	Group string `yaml:"group"`
	// WindowEvents closes a version's window at this many labelled events
	// (default 1000); WindowDuration closes it this long after it opened
	// when it holds MinWindowEvents (defaults 5m and 200).
	WindowEvents    int           `yaml:"window_events"`
	WindowDuration  time.Duration `yaml:"window_duration"`
	MinWindowEvents int           `yaml:"min_window_events"`
	// MaxPending bounds the predictions held for labels that have not come
	// (default 200000; the oldest go first), and PredictionTTL how long one
	// is held (default 1h). LabelWait is how long a label that came before
	// its prediction waits for it (default 1m).
	MaxPending    int           `yaml:"max_pending"`
	PredictionTTL time.Duration `yaml:"prediction_ttl"`
	LabelWait     time.Duration `yaml:"label_wait"`
	// Margin is how far a production window's live AUC may fall below the
	// version's holdout AUC (or, for score models, how far its RMSE may
	// rise above the holdout RMSE, as a share of it) before the window
	// counts as degraded (default 0.05; -1: no quality retrain requests).
	// The AUC must be below holdout - margin with Confidence (default
	// 0.95, one-sided, from its standard error), so that a window of a few
	// dozen positives does not count as degraded by chance.
	Margin     float64 `yaml:"margin"`
	Confidence float64 `yaml:"confidence"`
	// MaxVersions bounds the versions per model that have metric series
	// and status entries (default 4; the lowest version numbers go first).
	MaxVersions int `yaml:"max_versions"`
	// Live is the live promotion policy.
	Live LiveConfig `yaml:"live"`
	// Decision is the hysteresis (retrain_k of retrain_m degraded windows),
	// the per-version cooldown, the hourly cap, the retrain topic and the
	// Redis timeout, shared with data drift: the wiring copies the drift
	// section in.
	Decision drift.Config `yaml:"-"`
}

// LiveConfig is the live promotion policy: a canary or shadow version is
// promoted when its live quality beats production's with the stated
// confidence, and production is rolled back when its live quality falls
// below the previous version's. It is a plain value.
type LiveConfig struct {
	// Enabled turns the policy on (the retrainer's policy live).
	Enabled bool `yaml:"enabled"`
	// MinEvents is the fewest labelled events a comparison runs on: scored
	// by both versions for a shadow, by each for a canary (default 2000).
	// MaxEvents ends an inconclusive comparison (default 20000).
	MinEvents int `yaml:"min_events"`
	MaxEvents int `yaml:"max_events"`
	// Confidence is the one-sided confidence of the bootstrap bounds on the
	// difference (default 0.95), from Resamples resamples (default 1000).
	Confidence float64 `yaml:"confidence"`
	Resamples  int     `yaml:"resamples"`
}

// Defaults of Config.
const (
	DefaultPredictionsTopic = "predictions"
	DefaultShadowTopic      = "predictions.shadow"
	DefaultLabelsTopic      = "labels"
	DefaultReportsTopic     = "quality-reports"
	DefaultGroup            = "sluice-quality"
	DefaultWindowEvents     = 1000
	DefaultWindowDuration   = 5 * time.Minute
	DefaultMinWindowEvents  = 200
	DefaultMaxPending       = 200000
	DefaultPredictionTTL    = time.Hour
	DefaultLabelWait        = time.Minute
	DefaultMargin           = 0.05
	DefaultMaxVersions      = 4
	DefaultLiveMinEvents    = 2000
	DefaultLiveMaxEvents    = 20000
	DefaultConfidence       = 0.95
	DefaultResamples        = 1000
)

// WithDefaults returns c with its zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	defInt := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	defDur := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.PredictionsTopic, DefaultPredictionsTopic)
	def(&c.ShadowTopic, DefaultShadowTopic)
	def(&c.LabelsTopic, DefaultLabelsTopic)
	def(&c.ReportsTopic, DefaultReportsTopic)
	def(&c.Group, DefaultGroup)
	defInt(&c.WindowEvents, DefaultWindowEvents)
	defDur(&c.WindowDuration, DefaultWindowDuration)
	defInt(&c.MinWindowEvents, min(DefaultMinWindowEvents, c.WindowEvents))
	defInt(&c.MaxPending, DefaultMaxPending)
	defDur(&c.PredictionTTL, DefaultPredictionTTL)
	defDur(&c.LabelWait, DefaultLabelWait)
	if c.Margin == 0 {
		c.Margin = DefaultMargin
	}
	if c.Confidence == 0 {
		c.Confidence = DefaultConfidence
	}
	defInt(&c.MaxVersions, DefaultMaxVersions)
	defInt(&c.Live.MinEvents, DefaultLiveMinEvents)
	defInt(&c.Live.MaxEvents, max(DefaultLiveMaxEvents, c.Live.MinEvents))
	if c.Live.Confidence == 0 {
		c.Live.Confidence = DefaultConfidence
	}
	defInt(&c.Live.Resamples, DefaultResamples)
	c.Decision = c.Decision.WithDefaults()
	return c
}

// Validate reports the first field of c (after defaults) that cannot work,
// by its YAML key under quality.
func (c Config) Validate() error {
	c = c.WithDefaults()
	bad := func(key, why string, a ...any) error { return keyerr.New("quality."+key, why, a...) }
	topics := map[string]string{}
	for key, t := range map[string]string{"predictions_topic": c.PredictionsTopic, "shadow_topic": c.ShadowTopic,
		"labels_topic": c.LabelsTopic, "reports_topic": c.ReportsTopic} {
		if other, ok := topics[t]; ok {
			return bad(key, "%q is also %s", t, other)
		}
		topics[t] = key
	}
	switch {
	case c.WindowEvents < 10:
		return bad("window_events", "%d: need at least 10", c.WindowEvents)
	case c.WindowDuration < time.Second:
		return bad("window_duration", "%s is under 1s", c.WindowDuration)
	case c.MinWindowEvents < 1 || c.MinWindowEvents > c.WindowEvents:
		return bad("min_window_events", "%d is not in [1, window_events %d]", c.MinWindowEvents, c.WindowEvents)
	case c.MaxPending < 1:
		return bad("max_pending", "%d: need at least 1", c.MaxPending)
	case c.PredictionTTL < time.Second:
		return bad("prediction_ttl", "%s is under 1s", c.PredictionTTL)
	case c.LabelWait < 0:
		return bad("label_wait", "%s is negative", c.LabelWait)
	case c.Margin != -1 && !(c.Margin > 0 && c.Margin < 1):
		return bad("margin", "%v is not in (0, 1), or -1", c.Margin)
	case !(c.Confidence >= 0.5 && c.Confidence < 1):
		return bad("confidence", "%v is not in [0.5, 1)", c.Confidence)
	case c.MaxVersions < 1:
		return bad("max_versions", "%d: need at least 1", c.MaxVersions)
	case c.Live.MinEvents < 50:
		return bad("live.min_events", "%d: need at least 50", c.Live.MinEvents)
	case c.Live.MaxEvents < c.Live.MinEvents:
		return bad("live.max_events", "%d is less than live.min_events %d", c.Live.MaxEvents, c.Live.MinEvents)
	case !(c.Live.Confidence >= 0.5 && c.Live.Confidence < 1):
		return bad("live.confidence", "%v is not in [0.5, 1)", c.Live.Confidence)
	case c.Live.Resamples < 100:
		return bad("live.resamples", "%d: need at least 100", c.Live.Resamples)
	}
	if err := c.Decision.Validate(); err != nil {
		return fmt.Errorf("quality: drift (the decision shared with drift): %w", err)
	}
	return nil
}
