package training

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// logisticData draws rows from a known logistic rule over three features
// with the given per-feature scale and offset.
func logisticData(seed uint64, n int, scale, offset float64) ([][]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 3))
	X := make([][]float32, n)
	y := make([]int, n)
	for i := range X {
		a, b, c := r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
		z := 2*a - 1.5*b + 0.2*c - 0.5
		if r.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
		X[i] = []float32{
			float32(a*scale + offset),
			float32(b*scale + offset),
			float32(c*scale - offset),
		}
	}
	return X, y
}

func TestTrainLogistic(t *testing.T) {
	tests := []struct {
		name          string
		hidden        []int
		scale, offset float64
	}{
		{"logistic regression", nil, 1, 0},
		{"logistic regression, raw scale", nil, 1000, 5000},
		{"mlp", []int{8}, 1, 0},
		{"mlp, raw scale", []int{8}, 0.001, -3},
		{"deep mlp", []int{8, 4}, 10, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			X, y := logisticData(1, 4000, tt.scale, tt.offset)
			m, rep, err := Train(X, y, TrainConfig{Seed: 7, Hidden: tt.hidden})
			if err != nil {
				t.Fatal(err)
			}
			// The rule's own AUC on such data is about 0.86.
			if rep.AUC < 0.82 || rep.Accuracy < 0.75 || rep.LogLoss > 0.5 {
				t.Errorf("report %+v", rep)
			}
			if rep.TrainRows != 3200 || rep.HoldoutRows != 800 || m.In() != 3 || m.Out() != 2 {
				t.Errorf("rows %d/%d, model %d → %d", rep.TrainRows, rep.HoldoutRows, m.In(), m.Out())
			}
			if len(m.Layers) != len(tt.hidden)+1 || m.Output != OutputSoftmax {
				t.Errorf("model has %d layers, output %q", len(m.Layers), m.Output)
			}
		})
	}
}

func TestTrainDeterministic(t *testing.T) {
	X, y := logisticData(2, 2000, 1, 0)
	cfg := TrainConfig{Seed: 3, Hidden: []int{6}, Epochs: 3}
	a, ra, err := Train(X, y, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, rb, _ := Train(X, y, cfg)
	if !reflect.DeepEqual(a, b) || ra.AUC != rb.AUC || ra.LogLoss != rb.LogLoss {
		t.Fatal("same seed trained different models")
	}
	cfg.Seed = 4
	c, _, _ := Train(X, y, cfg)
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds trained the same model")
	}
}

func TestTrainMulticlass(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	centres := [][2]float64{{0, 3}, {3, -2}, {-3, -2}}
	var X [][]float32
	var y []int
	for i := range 3000 {
		c := i % 3
		X = append(X, []float32{
			float32(centres[c][0] + r.NormFloat64()),
			float32(centres[c][1] + r.NormFloat64()),
		})
		y = append(y, c)
	}
	m, rep, err := Train(X, y, TrainConfig{Seed: 1, Hidden: []int{8}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Out() != 3 || rep.Accuracy < 0.95 || rep.AUC < 0.98 {
		t.Fatalf("outputs %d, report %+v", m.Out(), rep)
	}
}

func TestTrainRejects(t *testing.T) {
	X, y := logisticData(1, 10, 1, 0)
	ragged := append([][]float32{{1}}, X[1:]...)
	nan := append([][]float32{{float32(math.NaN()), 0, 0}}, X[1:]...)
	bad := append([]int{2}, y[1:]...)
	neg := append([]int{-1}, y[1:]...)
	tests := []struct {
		name string
		X    [][]float32
		y    []int
		cfg  TrainConfig
	}{
		{"no rows", nil, nil, TrainConfig{}},
		{"label count", X, y[1:], TrainConfig{}},
		{"empty rows", [][]float32{{}, {}}, []int{0, 1}, TrainConfig{}},
		{"ragged", ragged, y, TrainConfig{}},
		{"nan", nan, y, TrainConfig{}},
		{"label out of range", X, bad, TrainConfig{Classes: 2}},
		{"negative label", X, neg, TrainConfig{}},
		{"one class", X, y, TrainConfig{Classes: 1}},
		{"hidden zero", X, y, TrainConfig{Hidden: []int{0}}},
		{"holdout one", X, y, TrainConfig{Holdout: 1}},
		{"holdout empty split", X[:2], y[:2], TrainConfig{Holdout: 0.1}},
		{"negative rate", X, y, TrainConfig{LearningRate: -1}},
		{"negative l2", X, y, TrainConfig{L2: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Train(tt.X, tt.y, tt.cfg); err == nil {
				t.Fatal("Train succeeded")
			}
		})
	}
}

func TestROCAUC(t *testing.T) {
	p := func(v ...float32) [][]float32 {
		out := make([][]float32, len(v))
		for i, x := range v {
			out[i] = []float32{1 - x, x}
		}
		return out
	}
	tests := []struct {
		name   string
		probs  [][]float32
		labels []int
		want   float64
	}{
		{"perfect", p(0.1, 0.2, 0.8, 0.9), []int{0, 0, 1, 1}, 1},
		{"reversed", p(0.9, 0.8, 0.2, 0.1), []int{0, 0, 1, 1}, 0},
		{"all tied", p(0.5, 0.5, 0.5, 0.5), []int{0, 1, 0, 1}, 0.5},
		{"one inversion", p(0.1, 0.6, 0.5, 0.9), []int{0, 0, 1, 1}, 0.75},
		{"tie across classes", p(0.1, 0.5, 0.5, 0.9), []int{0, 0, 1, 1}, 0.875},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ROCAUC(tt.probs, tt.labels, 1); math.Abs(got-tt.want) > 1e-12 {
				t.Fatalf("AUC %v, want %v", got, tt.want)
			}
		})
	}
	if got := ROCAUC(p(0.1, 0.2), []int{1, 1}, 1); !math.IsNaN(got) {
		t.Fatalf("AUC with one class %v, want NaN", got)
	}
}

func BenchmarkTrainDemoModel(b *testing.B) {
	for b.Loop() {
		if _, _, _, err := TrainDemoModel(1, 30000); err != nil {
			b.Fatal(err)
		}
	}
}
