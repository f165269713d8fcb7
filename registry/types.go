package registry

import (
	"fmt"
	"regexp"
	"time"
)

// Stage is where a version stands in its model's life.
type Stage string

// Stages. A model has at most one production, one canary and one shadow
// version at a time.
const (
	// StageCandidate is a registered version no worker serves yet.
	StageCandidate Stage = "candidate"
	// StageShadow scores a fraction of traffic beside production; its
	// outputs are compared, not served.
	StageShadow Stage = "shadow"
	// StageCanary serves a percentage of keys, chosen by key hash.
	StageCanary Stage = "canary"
	// StageProduction serves every key the canary does not.
	StageProduction Stage = "production"
	// StageArchived was production, canary or shadow and was replaced.
	StageArchived Stage = "archived"
)

// ParseStage checks s names a stage.
func ParseStage(s string) (Stage, error) {
	switch st := Stage(s); st {
	case StageCandidate, StageShadow, StageCanary, StageProduction, StageArchived:
		return st, nil
	}
	return "", fmt.Errorf("%w: %q (candidate|shadow|canary|production|archived)", ErrBadStage, s)
}

// Version is one registered version of a model, without its blob. It is
// plain data.
type Version struct {
	Model   string
	Version string // "1", "2", …
	Stage   Stage
	SHA256  string // hex of the ONNX bytes
	Size    int64  // bytes of ONNX
	// URI is where the blob is when it is not stored in Redis: file:///path.
	URI       string
	Signature []byte             // signature.yaml
	Profile   []byte             // reference profile (opaque; defined by drift)
	Metrics   map[string]float64 // training/holdout metrics
	Created   time.Time
	// Refused is the last refusal of this version by a worker ("" none):
	// time, worker and reason.
	Refused string
}

// State is a model's current assignment of versions to stages. It is plain
// data; an empty version string means none.
type State struct {
	Model      string
	Production string
	Canary     string
	Shadow     string
	// CanaryPercent is the share of keys the canary serves, in (0, 100].
	CanaryPercent float64
	// ShadowFraction is the share of events the shadow scores, in (0, 1].
	ShadowFraction float64
	Latest         string    // the highest version number registered
	Updated        time.Time // last change
	// History is the production versions in the order they were promoted,
	// oldest first (bounded to the last historyLen); Rollback pops it.
	History []string
}

// namePattern is what a model name may be: it appears in Redis keys,
// channels, topic keys and metric labels.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// CheckName reports whether name can be a model name: 1 to 128 letters,
// digits, '.', '_' or '-', starting with a letter or digit.
func CheckName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("registry: model name %q: use 1 to 128 letters, digits, '.', '_' or '-'", name)
	}
	return nil
}
