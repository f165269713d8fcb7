package retrain

import (
	"fmt"
	"time"

	"github.com/sluice-ml/sluice/featurelog"
	"github.com/sluice-ml/sluice/internal/keyerr"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/training"
)

// Policy says what happens to a retrained version once it is registered as
// a candidate.
type Policy string

// Promotion policies.
const (
	// PolicyManual leaves the new version a candidate; an operator promotes
	// it (sluice models promote NAME VERSION).
	PolicyManual Policy = "manual"
	// PolicyAuto promotes the new version to production at once. Its
	// weights are the better of the retrained and the production ones on
	// the post-onset holdout (see Retrain), so it is never worse there
	// than production.
	PolicyAuto Policy = "auto"
	// PolicyLive promotes the new version to LiveStage (shadow or canary)
	// and leaves the decision to live evidence: package quality promotes a
	// challenger whose live quality beats production's with the stated
	// confidence, and rolls production back when its live quality falls
	// below what the previous version had.
	PolicyLive Policy = "live"
)

// ParsePolicy checks s names a policy.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case PolicyManual, PolicyAuto, PolicyLive:
		return p, nil
	}
	return "", fmt.Errorf("retrain: policy %q is not manual, auto or live", s)
}

// Config configures a Retrainer (the retrain: section of sluice.yaml). Zero
// fields take the defaults named beside them. It is a plain value.
type Config struct {
	// Policy is manual (default), auto or live.
	Policy Policy `yaml:"policy"`
	// LiveStage and LivePercent are where policy live puts a new version:
	// shadow (default) scoring LivePercent of events (default 100), or
	// canary serving LivePercent of keys.
	LiveStage   registry.Stage `yaml:"live_stage"`
	LivePercent float64        `yaml:"live_percent"`
	// MinRows is the fewest labelled records a retrain runs on (default
	// 2000): for a request with an onset, labelled events scored since
	// the onset (see TrainFrom); with fewer after MaxLabelWait, the
	// request is skipped.
	MinRows int `yaml:"min_rows"`
	// MaxLabelWait is how long a request waits for MinRows labelled events
	// scored since its onset, since labels arrive late (default 10m).
	MaxLabelWait time.Duration `yaml:"max_label_wait"`
	// BufferSize is how many of the most recent labelled records are kept
	// for training (default 50000).
	BufferSize int `yaml:"buffer_size"`
	// Holdout is the share of the buffered records, the most recent ones,
	// that both models are evaluated on and the new one is not trained on
	// (default 0.2).
	Holdout float64 `yaml:"holdout"`
	// FeatureTTL is how long workers keep scored events for the join
	// (default 1h). Labels older than that are not looked up.
	FeatureTTL time.Duration `yaml:"feature_ttl"`
	// LabelWait is how long a label waits for its event's features to be
	// kept by a worker before it is dropped (default 2m).
	LabelWait time.Duration `yaml:"label_wait"`
	// DoneTTL is how long a handled request's event id is remembered, so a
	// duplicate delivery trains nothing (default 30 days).
	DoneTTL time.Duration `yaml:"done_ttl"`
	// RequestsTopic carries RetrainRequested events (default
	// retrain-requests), read in consumer group Group (default
	// sluice-retrainer).
	RequestsTopic string `yaml:"requests_topic"`
	Group         string `yaml:"group"`
	// LabelsTopic carries quality.Label events (default labels), read in consumer
	// group LabelsGroup (default sluice-retrainer-labels).
	LabelsTopic string `yaml:"labels_topic"`
	LabelsGroup string `yaml:"labels_group"`
	// MaxAttempts is how many times a request that fails (Redis, registry
	// or Kafka trouble, not missing data) is tried before it is given up
	// (default 3).
	MaxAttempts int `yaml:"max_attempts"`
	// Quality configures the live quality service the retrainer runs
	// beside it (package quality) when it has a sink; policy live turns its
	// live policy on.
	Quality quality.Config `yaml:"quality"`
	// Train is how new versions are trained. The zero value trains the
	// demo model's architecture: one hidden layer of 16 relu units, 6
	// epochs but at least 1000 steps, batch 64, learning rate 0.005. Its Seed 0 means a seed derived
	// from the request's event id; its Holdout (default 0.05) is a share of
	// the training split used only for the training log line.
	Train training.TrainConfig `yaml:"train"`
}

// Defaults of Config.
const (
	DefaultMinRows       = 2000
	DefaultBufferSize    = 50000
	DefaultHoldout       = 0.2
	DefaultLabelWait     = 2 * time.Minute
	DefaultDoneTTL       = 30 * 24 * time.Hour
	DefaultRequestsTopic = "retrain-requests"
	DefaultLabelsTopic   = "labels"
	DefaultGroup         = "sluice-retrainer"
	DefaultLabelsGroup   = "sluice-retrainer-labels"
	DefaultMaxAttempts   = 3
	DefaultMaxLabelWait  = 10 * time.Minute
	DefaultLivePercent   = 100
)

// WithDefaults returns c with its zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.Policy == "" {
		c.Policy = PolicyManual
	}
	setDefault(&c.LiveStage, registry.StageShadow)
	setDefault(&c.LivePercent, DefaultLivePercent)
	setDefault(&c.MinRows, DefaultMinRows)
	setDefault(&c.MaxLabelWait, DefaultMaxLabelWait)
	setDefault(&c.BufferSize, max(DefaultBufferSize, c.MinRows))
	setDefault(&c.Holdout, DefaultHoldout)
	setDefault(&c.FeatureTTL, featurelog.DefaultTTL)
	setDefault(&c.LabelWait, DefaultLabelWait)
	setDefault(&c.DoneTTL, DefaultDoneTTL)
	setDefault(&c.RequestsTopic, DefaultRequestsTopic)
	setDefault(&c.LabelsTopic, DefaultLabelsTopic)
	setDefault(&c.Group, DefaultGroup)
	setDefault(&c.LabelsGroup, DefaultLabelsGroup)
	setDefault(&c.MaxAttempts, DefaultMaxAttempts)
	if c.Train.Hidden == nil && c.Train.Epochs == 0 && c.Train.BatchSize == 0 && c.Train.LearningRate == 0 {
		seed, holdout := c.Train.Seed, c.Train.Holdout
		c.Train = training.DemoTrainConfig(seed)
		c.Train.Holdout, c.Train.MinSteps = holdout, 1000
	}
	setDefault(&c.Train.Holdout, 0.05)
	setDefault(&c.Quality.LabelsTopic, c.LabelsTopic)
	c.Quality.Live.Enabled = c.Quality.Live.Enabled || c.Policy == PolicyLive
	c.Quality = c.Quality.WithDefaults()
	return c
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// Validate reports the first field of c (after defaults) that cannot work,
// by its YAML key.
func (c Config) Validate() error {
	c = c.WithDefaults()
	bad := func(key, why string, a ...any) error { return keyerr.New("retrain."+key, why, a...) }
	if _, err := ParsePolicy(string(c.Policy)); err != nil {
		return bad("policy", "%q is not manual, auto or live", c.Policy)
	}
	if c.LiveStage != registry.StageShadow && c.LiveStage != registry.StageCanary {
		return bad("live_stage", "%q is not shadow or canary", c.LiveStage)
	}
	switch {
	case c.MinRows < 10:
		return bad("min_rows", "%d: need at least 10", c.MinRows)
	case c.BufferSize < c.MinRows:
		return bad("buffer_size", "%d is less than min_rows %d", c.BufferSize, c.MinRows)
	case !(c.Holdout > 0 && c.Holdout <= 0.5):
		return bad("holdout", "%v is not in (0, 0.5]", c.Holdout)
	case c.FeatureTTL < time.Second:
		return bad("feature_ttl", "%s is under 1s", c.FeatureTTL)
	case c.LabelWait < 0:
		return bad("label_wait", "%s is negative", c.LabelWait)
	case c.MaxLabelWait < 0:
		return bad("max_label_wait", "%s is negative", c.MaxLabelWait)
	case !(c.LivePercent > 0 && c.LivePercent <= 100):
		return bad("live_percent", "%v is not in (0, 100]", c.LivePercent)
	case c.DoneTTL < time.Minute:
		return bad("done_ttl", "%s is under 1m", c.DoneTTL)
	case c.RequestsTopic == "" || c.LabelsTopic == "" || c.RequestsTopic == c.LabelsTopic:
		return bad("requests_topic", "%q and labels_topic %q must differ", c.RequestsTopic, c.LabelsTopic)
	case c.Group == c.LabelsGroup:
		return bad("group", "%q and labels_group must differ", c.Group)
	case c.MaxAttempts < 1:
		return bad("max_attempts", "%d: need at least 1", c.MaxAttempts)
	}
	if err := c.Train.Validate(); err != nil {
		return keyerr.Under("retrain.train", err)
	}
	if err := c.Quality.Validate(); err != nil {
		return err
	}
	return nil
}
