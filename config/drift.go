package config

import "github.com/sluice-ml/sluice/drift"

// Drift configures the drift monitor. It runs when Enabled is set and the
// model has a reference profile (profile.json beside model.onnx).
type Drift struct {
	Enabled      bool `yaml:"enabled"`
	drift.Config `yaml:",inline"`
}
