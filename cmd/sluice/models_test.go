package main

import (
	"bytes"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/training"
)

// modelFiles writes a random demo-shaped model.onnx and signature.yaml
// into a new directory.
func modelFiles(t *testing.T, seed uint64) string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 3))
	sig := training.DemoSignature()
	w := make([][]float32, sig.OutWidth())
	for i := range w {
		w[i] = make([]float32, sig.Width())
		for j := range w[i] {
			w[i][j] = float32(r.NormFloat64() * 0.1)
		}
	}
	dir := t.TempDir()
	mlp := &training.MLP{Layers: []training.Dense{{W: w, B: make([]float32, sig.OutWidth())}}, Output: training.OutputSoftmax}
	if err := training.WriteModelDir(dir, mlp, sig); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestModelsCommand(t *testing.T) {
	rs := testkit.StartRedis(t)
	t.Setenv("SLUICE_REDIS_URL", "")
	log := slog.New(slog.DiscardHandler)
	models := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runModels(t.Context(), append(args, "--redis-url", rs.URL), &out, log)
		return out.String(), err
	}
	mustRun := func(args ...string) string {
		t.Helper()
		out, err := models(args...)
		if err != nil {
			t.Fatalf("sluice models %s: %v", strings.Join(args, " "), err)
		}
		return out
	}
	d1, d2 := modelFiles(t, 1), modelFiles(t, 2)
	metrics := filepath.Join(t.TempDir(), "metrics.json")
	os.WriteFile(metrics, []byte(`{"auc": 0.931, "logloss": 0.2}`), 0o644)

	if out := mustRun("list"); !strings.Contains(out, "no models") {
		t.Fatalf("list on an empty registry: %q", out)
	}
	out := mustRun("register", "fraud", "--onnx", filepath.Join(d1, "model.onnx"), "--signature", filepath.Join(d1, "signature.yaml"), "--metrics", metrics)
	if !strings.HasPrefix(out, "registered fraud version 1 (candidate)") {
		t.Fatalf("register: %q", out)
	}
	mustRun("promote", "fraud", "1")
	mustRun("register", "fraud", "--onnx", filepath.Join(d2, "model.onnx"), "--signature", filepath.Join(d2, "signature.yaml"))
	if out := mustRun("promote", "fraud", "2", "--stage", "canary", "--percent", "20"); out != "promoted fraud version 2 to canary serving 20% of keys\n" {
		t.Fatalf("promote canary: %q", out)
	}
	out = mustRun("list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "MODEL ") || strings.Join(strings.Fields(lines[1])[:5], " ") != "fraud 1 2 (20%) -" {
		t.Fatalf("list:\n%s", out)
	}
	if out := mustRun("promote", "fraud", "2"); out != "promoted fraud version 2 to production; version 1 archived\n" {
		t.Fatalf("promote: %q", out)
	}
	out = mustRun("show", "fraud")
	t.Logf("sluice models show fraud:\n%s", out)
	for _, want := range []string{"production  2", "history     1 → 2", "auc=0.931 logloss=0.2", "archived", "VERSION  STAGE"} {
		if !strings.Contains(out, want) {
			t.Fatalf("show lacks %q:\n%s", want, out)
		}
	}
	if out := mustRun("rollback", "fraud"); out != "rolled back fraud: production is version 1 again; version 2 archived\n" {
		t.Fatalf("rollback: %q", out)
	}

	// A signature for three classes does not fit the two-class model.
	bad := filepath.Join(t.TempDir(), "signature.yaml")
	sig := training.DemoSignature()
	sig.Output.Classes = append(sig.Output.Classes, "chargeback")
	b, _ := yaml.Marshal(sig)
	os.WriteFile(bad, b, 0o644)
	tests := []struct {
		name    string
		args    []string
		wantErr error
		want    string
	}{
		{"unknown model", []string{"show", "fraude"}, registry.ErrUnknownModel, `unknown model "fraude"`},
		{"unknown version", []string{"promote", "fraud", "7"}, registry.ErrUnknownVersion, `no version "7"`},
		{"nothing to roll back to", []string{"rollback", "fraud"}, registry.ErrNoPrevious, "no previous production version"},
		{"unknown stage", []string{"promote", "fraud", "2", "--stage", "staging"}, registry.ErrBadStage, "staging"},
		{"signature mismatch", []string{"register", "fraud", "--onnx", filepath.Join(d1, "model.onnx"), "--signature", bad}, registry.ErrSignatureMismatch, "needs 3 probabilities (one per class) per event"},
		{"corrupt model", []string{"register", "fraud", "--onnx", filepath.Join(d1, "signature.yaml"), "--signature", filepath.Join(d1, "signature.yaml")}, registry.ErrCorruptModel, "does not load"},
		{"over the cap", []string{"register", "fraud", "--onnx", filepath.Join(d1, "model.onnx"), "--signature", filepath.Join(d1, "signature.yaml"), "--max-model-bytes", "100"}, registry.ErrTooLarge, "cap is 100"},
		{"no model file", []string{"register", "fraud", "--signature", filepath.Join(d1, "signature.yaml")}, nil, "one of --onnx"},
		{"show without a name", []string{"show"}, nil, "usage: sluice models show NAME"},
		{"unknown command", []string{"frobnicate"}, nil, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := models(tt.args...)
			if err == nil {
				t.Fatal("succeeded")
			}
			if (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.wantErr, tt.want)
			}
		})
	}
	var out2 bytes.Buffer
	if err := runModels(t.Context(), []string{"list"}, &out2, log); err == nil || !strings.Contains(err.Error(), "SLUICE_REDIS_URL") {
		t.Fatalf("without a Redis URL: %v", err)
	}
}
