package registry

import (
	"errors"
	"fmt"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/inference"
)

// loadCheck loads onnx with sig on one CPU session (the load compares the
// model's inputs and outputs with the signature and runs a warm-up batch)
// and closes it again. version is the number it will be registered as, for
// messages.
func loadCheck(name, version string, onnx []byte, sig *inference.Signature) error {
	m, err := inference.LoadModel(name, version, onnx, sig,
		inference.SessionConfig{Provider: inference.ProviderCPU, IntraOpThreads: 1, Sessions: 1}, nil)
	if err != nil {
		return classifyLoad(onnx, err)
	}
	return m.Close()
}

// classifyLoad tells a model ONNX Runtime cannot read (ErrCorruptModel)
// from one that does not fit its signature (ErrSignatureMismatch). A
// missing runtime is neither and is returned as it is.
func classifyLoad(onnx []byte, err error) error {
	if errors.Is(err, inference.ErrLibraryMissing) {
		return err
	}
	if _, _, ierr := ort.GetInputOutputInfoWithONNXData(onnx); ierr != nil {
		return fmt.Errorf("%w: %v", ErrCorruptModel, err)
	}
	return fmt.Errorf("%w: %v", ErrSignatureMismatch, err)
}

// checkProfile checks a reference profile (nil: none) before it is
// stored: it must parse, and each of its features must be one the
// signature reads, of the same kind (drift.FeaturesFromSignature), or the
// version would serve with drift monitoring off or watching nothing.
func checkProfile(b []byte, sig *inference.Signature) error {
	if len(b) == 0 {
		return nil
	}
	p, err := drift.ParseProfile(b)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	kinds := map[string]drift.FeatureKind{}
	for _, f := range drift.FeaturesFromSignature(sig) {
		kinds[f.Name] = f.Kind
	}
	check := func(name string, kind drift.FeatureKind, what string) error {
		k, ok := kinds[name]
		switch {
		case !ok:
			return fmt.Errorf("profile: %w: %s feature %q is not a column the signature reads (profile the model with sluice profile --signature)", drift.ErrBadProfile, what, name)
		case k != kind:
			return fmt.Errorf("profile: %w: feature %q is %s in the profile, but the signature reads it otherwise", drift.ErrBadProfile, name, what)
		}
		return nil
	}
	for _, n := range p.Numeric {
		if err := check(n.Name, drift.Numeric, "numeric"); err != nil {
			return err
		}
	}
	for _, c := range p.Categorical {
		if err := check(c.Name, drift.Categorical, "categorical"); err != nil {
			return err
		}
	}
	return nil
}
