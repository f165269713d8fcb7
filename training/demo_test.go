package training

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/inference"
)

func TestDemoSignature(t *testing.T) {
	sig := DemoSignature()
	if sig.Width() != 26 || sig.OutWidth() != 2 {
		t.Fatalf("width %d → %d, want 26 → 2", sig.Width(), sig.OutWidth())
	}
	cols := sig.Input.Columns
	if cols[0].Field != "amount" || cols[19].Field != "mcc_risk" || cols[20].Field != "card_present" ||
		cols[21].Field != "channel" || cols[22].Field != "customer_income" || cols[22].Impute == nil {
		t.Fatalf("columns %+v", cols)
	}

	rec := demo.NewGenerator(1).Next()
	rec["channel"] = "kiosk"
	rec["customer_income"] = nil
	rec["card_present"] = true
	row := make([]float32, 26)
	if err := sig.MapRow(rec, row); err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 0, 26)
	for _, f := range demo.NumericFeatures() {
		want = append(want, float32(rec[f].(float64)))
	}
	want = append(want, 1, 0, 0, 0, 0, demoIncomeMedian)
	if !reflect.DeepEqual(row, want) {
		t.Fatalf("row %v\nwant %v", row, want)
	}
}

func TestTrainDemoModel(t *testing.T) {
	const n = 20000
	m, sig, rep, err := TrainDemoModel(1, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("holdout accuracy %.4f, log-loss %.4f, AUC %.4f, trained in %v", rep.Accuracy, rep.LogLoss, rep.AUC, rep.Duration)
	// The generating rule itself scores an AUC of about 0.90; always
	// answering "legit" scores accuracy 0.96 and log-loss 0.16.
	if rep.AUC < 0.8 || rep.Accuracy < 0.95 || rep.LogLoss > 0.14 {
		t.Errorf("report %+v", rep)
	}
	if m.In() != 26 || m.Out() != 2 || rep.TrainRows+rep.HoldoutRows != n {
		t.Errorf("model %d → %d on %d+%d rows", m.In(), m.Out(), rep.TrainRows, rep.HoldoutRows)
	}
	if imp := *sig.Input.Columns[22].Impute; math.Abs(imp-demoIncomeMedian) > 3000 {
		t.Errorf("income impute %v, want near %v", imp, demoIncomeMedian)
	}

	// ONNX Runtime computes what Forward computes, on fresh events.
	recs := make([]map[string]any, 300)
	g := demo.NewGenerator(99)
	for i := range recs {
		recs[i] = g.Next()
	}
	X, err := Rows(sig, recs)
	if err != nil {
		t.Fatal(err)
	}
	assertMatchesORT(t, m, X, 1e-5)
}

func TestTrainDemoModelDeterministic(t *testing.T) {
	a, sa, ra, err := TrainDemoModel(5, 3000)
	if err != nil {
		t.Fatal(err)
	}
	b, sb, rb, _ := TrainDemoModel(5, 3000)
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(sa.Input, sb.Input) || ra.AUC != rb.AUC {
		t.Fatal("same seed trained different demo models")
	}
}

func TestWriteModelDir(t *testing.T) {
	m, sig, _, err := TrainDemoModel(2, 2000)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "fraud", "1")
	if err := WriteModelDir(dir, m, sig); err != nil {
		t.Fatal(err)
	}
	got, err := inference.LoadSignature(filepath.Join(dir, SignatureFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Input, sig.Input) || !reflect.DeepEqual(got.Output, sig.Output) {
		t.Fatalf("signature.yaml reads back as %+v", got)
	}
	model, err := os.ReadFile(filepath.Join(dir, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := WriteONNX(m, DemoInputTensor, DemoOutputTensor)
	if !reflect.DeepEqual(model, want) {
		t.Fatal("model.onnx differs from WriteONNX")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("dir holds %d entries, want 2", len(entries))
	}

	if err := WriteModelDir(t.TempDir(), HeavyMLP(1), sig); err == nil {
		t.Fatal("WriteModelDir accepted a model that does not fit the signature")
	}
}
