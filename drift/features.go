package drift

import (
	"math"

	"github.com/sluice-ml/sluice/inference"
)

// FeatureKind says how a feature is binned.
type FeatureKind string

// The kinds of feature a Profile knows.
const (
	// Numeric features (numbers and booleans, read as 0/1) are binned on
	// quantile edges of the training data and tested with KS and PSI.
	Numeric FeatureKind = "numeric"
	// Categorical features (strings and enums) are binned by category and
	// tested with chi-squared and PSI.
	Categorical FeatureKind = "categorical"
)

// FeatureSpec names one record field to watch and how to bin it.
type FeatureSpec struct {
	Name string      `json:"name" yaml:"name"`
	Kind FeatureKind `json:"kind" yaml:"kind"`
	// Vocabulary lists the known categories of a categorical feature; the
	// categories seen in the training data are added to it.
	Vocabulary []string `json:"vocabulary,omitempty" yaml:"vocabulary,omitempty"`
}

// FeaturesFromSignature returns the features of a model's signature that
// drift watches: numeric and boolean columns as numeric features,
// categorical columns as categorical features; array columns are skipped.
// A field named twice is watched once.
func FeaturesFromSignature(sig *inference.Signature) []FeatureSpec {
	var out []FeatureSpec
	seen := map[string]bool{}
	for _, c := range sig.Columns() {
		if seen[c.Field] {
			continue
		}
		switch c.Kind {
		case inference.KindNumeric, inference.KindBoolean:
			out = append(out, FeatureSpec{Name: c.Field, Kind: Numeric})
		case inference.KindCategorical:
			voc := append([]string(nil), c.Vocabulary...)
			out = append(out, FeatureSpec{Name: c.Field, Kind: Categorical, Vocabulary: voc})
		default:
			continue
		}
		seen[c.Field] = true
	}
	return out
}

// numberOf reads a decoded field value as a number. It accepts the plain
// Go values a decoder returns (float64, float32, the integer types, bool as
// 0/1) and goavro's union wrapping (a one-entry map). ok is false for nil,
// NaN, and anything else: such values count as missing.
func numberOf(v any) (x float64, ok bool) {
	switch t := v.(type) {
	case float64:
		x = t
	case float32:
		x = float64(t)
	case int:
		x = float64(t)
	case int32:
		x = float64(t)
	case int64:
		x = float64(t)
	case bool:
		if t {
			x = 1
		}
	case map[string]any:
		if len(t) != 1 {
			return 0, false
		}
		for _, u := range t {
			return numberOf(u)
		}
	default:
		return 0, false
	}
	if math.IsNaN(x) {
		return 0, false
	}
	return x, true
}

// stringOf reads a decoded field value as a category. ok is false for nil
// and non-string values, which count as missing.
func stringOf(v any) (s string, ok bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case map[string]any:
		if len(t) != 1 {
			return "", false
		}
		for _, u := range t {
			return stringOf(u)
		}
	}
	return "", false
}
