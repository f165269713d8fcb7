// Package config is the sluice.yaml file: one struct holding each
// package's own Config (pipeline.Config, inference.SessionConfig under
// inference, consumers.Tuning under kafka.consumer, drift.Config,
// registry.Config under models, admin.Config), with every default written
// once, in the package that owns the key. It is loaded from YAML (unknown
// keys are errors that name the key), then overridden by command-line
// flags, then by SLUICE_* environment variables, and validated: every bad
// value is reported in one style, its dotted key first
// ("pipeline.batch.max_delay: must not be negative, got -1s";
// internal/keyerr).
//
// routes: lists the topic → model → topic routes one process serves; each
// route's unset keys take the top-level ones, and a file without routes is
// one route built from pipeline.* and model.* (routes.go, Effective).
package config
