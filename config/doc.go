// Package config is the sluice.yaml file: one struct holding each package's
// own Config, loaded from YAML (unknown keys are errors that name the key),
// then overridden by command-line flags, then by SLUICE_* environment
// variables, and validated so that a bad value names its field.
package config
