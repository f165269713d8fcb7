package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/inference"
)

// cmdProfile is `sluice profile`: the drift reference profile of a model
// trained elsewhere, from its training data (CSV or Avro container file).
func cmdProfile(_ context.Context, args []string, _ *slog.Logger) error {
	fs := flag.NewFlagSet("profile", flag.ContinueOnError)
	data := fs.String("data", "", "training data: a CSV file with a header row, or an Avro object container file")
	sigPath := fs.String("signature", "", "the model's signature.yaml (its columns are the profiled features)")
	modelPath := fs.String("onnx", "", "the model, to profile its scores on the data (optional; see --score-column)")
	scoreCol := fs.String("score-column", "", "a column of the data holding the model's score, instead of --onnx")
	out := fs.String("out", "profile.json", "where to write the profile")
	bins := fs.Int("bins", 20, "quantile bins per numeric feature")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" || *sigPath == "" {
		return errors.New("usage: sluice profile --data FILE --signature signature.yaml [--onnx model.onnx | --score-column NAME] [--out profile.json]")
	}
	sig, err := inference.LoadSignature(*sigPath)
	if err != nil {
		return err
	}
	opts := drift.ProfileOptions{Bins: *bins, ScoreColumn: *scoreCol}
	if *modelPath != "" && *scoreCol == "" {
		score, closeModel, err := modelScorer(*modelPath, sig)
		if err != nil {
			return err
		}
		defer closeModel()
		opts.Score = score
	}
	p, err := drift.ProfileFromFile(*data, drift.FeaturesFromSignature(sig), opts)
	if err != nil {
		return err
	}
	if err := p.WriteFile(*out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s (%d numeric, %d categorical features)\n", *out, len(p.Numeric), len(p.Categorical))
	return nil
}

// modelScorer scores one record at a time with the model in ONNX Runtime.
func modelScorer(path string, sig *inference.Signature) (func(map[string]any) (float32, error), func(), error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	m, err := inference.LoadModel(filepath.Base(path), "profile", b, sig, inference.SessionConfig{Provider: inference.ProviderCPU}, nil)
	if err != nil {
		return nil, nil, err
	}
	var row inference.Row
	rows := []*inference.Row{&row}
	out := make([]float32, m.OutWidth())
	score := func(rec map[string]any) (float32, error) {
		if err := sig.MapRecordInto(rec, &row); err != nil {
			return 0, err
		}
		if _, err := m.InferRows(context.Background(), rows, out); err != nil {
			return 0, err
		}
		return m.ReadOutput(out).Score, nil
	}
	return score, func() { _ = m.Close() }, nil
}
