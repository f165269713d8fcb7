package training

import (
	"fmt"
	"math"
	"slices"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/inference"
)

// Names of the demo fraud model and its tensors.
const (
	DemoModelName    = "fraud"
	DemoInputTensor  = "features"
	DemoOutputTensor = "probabilities"
)

// demoIncomeMedian is the median customer_income of the generator's card
// pool in expectation (e^10.8, rounded as the generator rounds incomes); it
// is DemoSignature's impute value.
const demoIncomeMedian = 49000

// DemoClasses returns the demo model's classes in output order. It returns a
// new slice on every call and is safe for concurrent use.
func DemoClasses() []string { return []string{"legit", "fraud"} }

// DemoSignature returns the validated signature of the demo fraud model:
// input tensor "features" with 26 columns (the 20 numeric features of
// transaction.avsc in schema order, card_present, channel one-hot over web,
// mobile, pos, atm with unknown values all zero, and customer_income with
// nulls imputed by the generator's median income), output "probabilities"
// over legit and fraud. TrainDemoModel returns the same signature with the
// median income of its training events instead. Each call returns a new Signature;
// it is safe for concurrent use.
func DemoSignature() *inference.Signature {
	return demoSignature(demoIncomeMedian)
}

func demoSignature(incomeImpute float64) *inference.Signature {
	var cols []inference.Column
	for _, f := range demo.NumericFeatures() {
		cols = append(cols, inference.Column{Field: f, Kind: inference.KindNumeric})
	}
	impute := incomeImpute
	cols = append(cols,
		inference.Column{Field: demo.FieldCardPresent, Kind: inference.KindBoolean},
		inference.Column{
			Field:      demo.FieldChannel,
			Kind:       inference.KindCategorical,
			Vocabulary: demo.Channels(),
			Encoding:   inference.EncodingOneHot,
			Unknown:    inference.UnknownZero,
		},
		inference.Column{Field: demo.FieldCustomerIncome, Kind: inference.KindNumeric, Impute: &impute},
	)
	sig := &inference.Signature{
		Input: inference.InputSpec{Tensor: DemoInputTensor, Columns: cols},
		Output: inference.OutputSpec{
			Tensor:  DemoOutputTensor,
			Kind:    inference.OutputProbabilities,
			Classes: DemoClasses(),
		},
	}
	if err := sig.Validate(); err != nil {
		panic(fmt.Sprintf("retrain: demo signature: %v", err))
	}
	return sig
}

// DemoTrainConfig is how the demo model is trained (and the retrainer by
// default): one hidden layer of 16
// relu units.
func DemoTrainConfig(seed int64) TrainConfig {
	return TrainConfig{Seed: seed, Hidden: []int{16}, Epochs: 6, BatchSize: 64, LearningRate: 0.005}
}

// TrainDemoModel trains the demo fraud model on n labelled events from
// demo.NewGenerator(seed), holding out a fifth of them for the report. The
// returned signature imputes customer_income with the median income of the
// n events. The result is deterministic for a seed; it is safe for
// concurrent use. With n = 50000 it takes about a second on one core.
func TrainDemoModel(seed int64, n int) (*MLP, *inference.Signature, TrainReport, error) {
	return TrainDemoModelOn(seed, n)
}

// TrainDemoModelOn is TrainDemoModel on events of demo.NewGenerator(seed,
// opts...): a model of the drifted traffic, or of the second labelling
// rule (a concept drift from event 0). It is safe for concurrent use.
func TrainDemoModelOn(seed int64, n int, opts ...demo.Option) (*MLP, *inference.Signature, TrainReport, error) {
	if n < 10 {
		return nil, nil, TrainReport{}, fmt.Errorf("retrain: %d demo events is too few to train on", n)
	}
	g := demo.NewGenerator(seed, opts...)
	recs := make([]map[string]any, n)
	y := make([]int, n)
	var incomes []float64
	for i := range recs {
		rec, fraud := g.NextLabelled()
		recs[i] = rec
		if fraud {
			y[i] = 1
		}
		if inc, ok := rec[demo.FieldCustomerIncome].(map[string]any); ok {
			incomes = append(incomes, inc["double"].(float64))
		}
	}
	sig := demoSignature(median(incomes, demoIncomeMedian))
	X, err := Rows(sig, recs)
	if err != nil {
		return nil, nil, TrainReport{}, err
	}
	m, rep, err := Train(X, y, DemoTrainConfig(seed))
	if err != nil {
		return nil, nil, TrainReport{}, fmt.Errorf("training demo model: %w", err)
	}
	return m, sig, rep, nil
}

// Rows maps records to feature rows with sig, which must be validated. It
// is safe for concurrent use.
func Rows(sig *inference.Signature, recs []map[string]any) ([][]float32, error) {
	w := sig.Width()
	flat := make([]float32, len(recs)*w)
	X := make([][]float32, len(recs))
	for i, rec := range recs {
		X[i] = flat[i*w : (i+1)*w : (i+1)*w]
		if err := sig.MapRow(rec, X[i]); err != nil {
			return nil, fmt.Errorf("mapping record %d: %w", i, err)
		}
	}
	return X, nil
}

// median returns the median of v (sorting v), or def when v is empty.
func median(v []float64, def float64) float64 {
	if len(v) == 0 {
		return def
	}
	slices.Sort(v)
	mid := len(v) / 2
	if len(v)%2 == 1 {
		return v[mid]
	}
	return math.Round((v[mid-1]+v[mid])/2*100) / 100
}
