package retrain

import (
	"testing"

	"github.com/sluice-ml/sluice/inference"
)

func TestOutputKindsNamesEveryOutput(t *testing.T) {
	for _, c := range []struct {
		sig  inference.Signature
		want string
	}{
		{inference.Signature{Output: inference.OutputSpec{Kind: inference.OutputProbabilities, Classes: []string{"legit"}}}, "probabilities (1 classes)"},
		{inference.Signature{Output: inference.OutputSpec{Kind: inference.OutputScore}}, "score"},
		{inference.Signature{Outputs: []inference.OutputSpec{{Kind: inference.OutputZipMap}, {Kind: inference.OutputLabel}}}, "zipmap, label"},
		{inference.Signature{}, "an output of no kind"},
	} {
		if got := outputKinds(&c.sig); got != c.want {
			t.Errorf("%+v: %q, want %q", c.sig, got, c.want)
		}
	}
}
