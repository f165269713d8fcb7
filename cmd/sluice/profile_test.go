package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/training"
)

func TestProfileCommandFromCSV(t *testing.T) {
	dir := t.TempDir()
	sig := training.DemoSignature()
	b, err := yaml.Marshal(sig)
	if err != nil {
		t.Fatal(err)
	}
	sigPath := filepath.Join(dir, "signature.yaml")
	if err := os.WriteFile(sigPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "train.csv"))
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	var header []string
	for _, c := range sig.Input.Columns {
		header = append(header, c.Field)
	}
	_ = w.Write(header)
	gen := demo.NewGenerator(3)
	for range 3000 {
		rec := gen.Next()
		row := make([]string, len(header))
		for i, name := range header {
			switch v := rec[name].(type) {
			case nil:
				row[i] = ""
			case map[string]any:
				row[i] = fmt.Sprint(v["double"])
			default:
				row[i] = fmt.Sprint(v)
			}
		}
		_ = w.Write(row)
	}
	w.Flush()
	f.Close()
	out := filepath.Join(dir, "profile.json")
	if err := cmdProfile(t.Context(), []string{"--data", f.Name(), "--signature", sigPath, "--out", out}, nil); err != nil {
		t.Fatal(err)
	}
	p, err := drift.LoadProfile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Numeric) != 22 || len(p.Categorical) != 1 {
		t.Fatalf("profile has %d numeric and %d categorical features, want 22 (20 numeric, card_present, customer_income) and 1 (channel)", len(p.Numeric), len(p.Categorical))
	}
	if err := cmdProfile(t.Context(), []string{"--data", f.Name()}, nil); err == nil {
		t.Fatal("profile without --signature was accepted")
	}
}
