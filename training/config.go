package training

import (
	"fmt"

	"github.com/sluice-ml/sluice/internal/keyerr"
)

// TrainConfig says how Train fits a model. Zero fields take the defaults
// listed beside them. It is a plain value.
type TrainConfig struct {
	// Seed makes training deterministic: the same data, config and seed
	// give the same weights.
	Seed int64 `yaml:"seed"`
	// Hidden lists the widths of the relu hidden layers; none trains
	// logistic regression (a softmax over the classes).
	Hidden []int `yaml:"hidden"`
	// Classes is the number of classes; 0 means 1 + the largest label,
	// and at least 2.
	Classes int `yaml:"classes"`
	// Epochs is the number of passes over the training split (default 8).
	Epochs int `yaml:"epochs"`
	// MinSteps raises Epochs, up to 50, until training takes at least this
	// many mini-batch steps (0: no floor), so that a small training split
	// (a retrain on the traffic since a drift onset) is fitted as far as a
	// large one.
	MinSteps int `yaml:"min_steps"`
	// BatchSize is the mini-batch size (default 64).
	BatchSize int `yaml:"batch_size"`
	// LearningRate is Adam's initial step size (default 0.005); it decays
	// linearly to a tenth of that over training.
	LearningRate float64 `yaml:"learning_rate"`
	// L2 is the weight decay on weights, not biases (default 1e-4).
	L2 float64 `yaml:"l2"`
	// Holdout is the share of rows held out for the report (default 0.2).
	Holdout float64 `yaml:"holdout"`
}

// withDefaults returns c with zero fields set to their defaults.
func (c TrainConfig) withDefaults() TrainConfig {
	if c.Epochs == 0 {
		c.Epochs = 8
	}
	if c.BatchSize == 0 {
		c.BatchSize = 64
	}
	if c.LearningRate == 0 {
		c.LearningRate = 0.005
	}
	if c.L2 == 0 {
		c.L2 = 1e-4
	}
	if c.Holdout == 0 {
		c.Holdout = 0.2
	}
	return c
}

// Validate reports every field of c (after defaults) that cannot work, by
// its YAML key; whoever embeds the config puts its own key in front
// (retrain.train.epochs).
func (c TrainConfig) Validate() error {
	c = c.withDefaults()
	var l keyerr.List
	for i, h := range c.Hidden {
		l.Check(h > 0, fmt.Sprintf("hidden[%d]", i), "must be positive, got %d", h)
	}
	l.Check(c.Classes == 0 || c.Classes >= 2, "classes", "must be at least 2, got %d", c.Classes)
	l.Check(c.Epochs >= 0, "epochs", "must be positive, got %d", c.Epochs)
	l.Check(c.MinSteps >= 0, "min_steps", "must not be negative, got %d", c.MinSteps)
	l.Check(c.BatchSize >= 0, "batch_size", "must be positive, got %d", c.BatchSize)
	l.Check(c.LearningRate > 0, "learning_rate", "must be positive, got %v", c.LearningRate)
	l.Check(c.L2 >= 0, "l2", "must not be negative, got %v", c.L2)
	l.Check(c.Holdout > 0 && c.Holdout < 1, "holdout", "must be in (0, 1), got %v", c.Holdout)
	return l.Err()
}
