package registry_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/registry"
)

// A reference profile is checked at registration: one that does not parse,
// or that watches a feature the signature does not read (or reads as
// another kind), is refused, naming it; the version would otherwise serve
// with drift monitoring off.
func TestRegisterChecksTheProfile(t *testing.T) {
	e := newEnv(t, registry.Config{})
	profile := func(numeric, categorical string) []byte {
		p := drift.Profile{Format: drift.ProfileFormat, Rows: 10}
		if numeric != "" {
			p.Numeric = []drift.NumericProfile{{Name: numeric, Edges: []float64{1}, Proportions: []float64{0.5, 0.5}, Count: 10}}
		}
		if categorical != "" {
			p.Categorical = []drift.CategoricalProfile{{Name: categorical, Categories: []string{"web"}, Proportions: []float64{1}, Count: 10}}
		}
		b, _ := json.Marshal(p)
		return b
	}
	for _, tt := range []struct {
		name    string
		profile []byte
		want    string // "" accepted
	}{
		{"random bytes", []byte("\x00\x01 this is not a profile"), "profile: drift: bad profile"},
		{"a feature the signature does not read", profile("shoe_size", ""), `numeric feature "shoe_size" is not a column the signature reads`},
		{"a numeric column profiled as categorical", profile("", "amount"), `feature "amount" is categorical in the profile`},
		{"fits", profile("amount", "channel"), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.reg.Register(t.Context(), "fraud", registry.RegisterRequest{ONNX: demoONNX(t, 1, 0), Signature: sigYAML(t, nil), Profile: tt.profile})
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || !errors.Is(err, drift.ErrBadProfile) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want drift.ErrBadProfile saying %q", err, tt.want)
			}
		})
	}
}

// A registration that does not fit its model names the version it would
// have been.
func TestRegisterErrorNamesTheVersion(t *testing.T) {
	e := newEnv(t, registry.Config{})
	e.register(t, "fraud", 1, 0)
	_, err := e.reg.Register(t.Context(), "fraud", registry.RegisterRequest{
		ONNX: demoONNX(t, 2, 0), Signature: sigYAML(t, func(s *inference.Signature) { s.Input.Tensor = "x" }),
	})
	if !errors.Is(err, registry.ErrSignatureMismatch) || !strings.Contains(err.Error(), "loading model fraud version 2:") || strings.Contains(err.Error(), "version new") {
		t.Fatalf("err = %v", err)
	}
}
