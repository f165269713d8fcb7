package inference

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// testGemm is a 3-class softmax model over 5 inputs with fixed weights.
func testGemm() gemmModel {
	return gemmModel{
		in: "features", out: "probabilities", softmax: true,
		w: [][]float32{
			{0.5, -1.25, 0.75, 0.1, -0.3},
			{-0.2, 0.4, 1.5, -0.9, 0.05},
			{1.1, 0.3, -0.6, 0.2, 0.8},
		},
		b: []float32{0.1, -0.2, 0.05},
	}
}

func testSignature(g gemmModel) *Signature {
	cols := make([]Column, g.width())
	for i := range cols {
		cols[i] = Column{Field: fmt.Sprintf("f%d", i), Kind: KindNumeric}
	}
	out := OutputSpec{Tensor: g.out, Kind: OutputScore}
	if g.softmax {
		for i := range g.w {
			out.Kind = OutputProbabilities
			out.Classes = append(out.Classes, fmt.Sprintf("c%d", i))
		}
	}
	return &Signature{Input: InputSpec{Tensor: g.in, Columns: cols}, Output: out}
}

func loadTest(t testing.TB, g gemmModel, cfg SessionConfig, m *Metrics) *Model {
	t.Helper()
	needRuntime(t)
	if cfg.Provider == "" {
		cfg.Provider = ProviderCPU
	}
	if cfg.IntraOpThreads == 0 {
		cfg.IntraOpThreads = 1
	}
	model, err := LoadModel("test", "1", g.encode(), testSignature(g), cfg, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := model.Close(); err != nil {
			t.Error(err)
		}
	})
	return model
}

func randomRows(r *rand.Rand, n, width int) []float32 {
	rows := make([]float32, n*width)
	for i := range rows {
		rows[i] = float32(r.NormFloat64() * 2)
	}
	return rows
}

// checkOutputs compares Infer's outputs with the Go forward pass.
func checkOutputs(t *testing.T, g gemmModel, rows, got []float32, n int) {
	t.Helper()
	w, ow := g.width(), len(g.w)
	if len(got) != n*ow {
		t.Fatalf("got %d outputs, want %d", len(got), n*ow)
	}
	for i := range n {
		want := g.forward(rows[i*w : (i+1)*w])
		for j, v := range want {
			if d := math.Abs(float64(got[i*ow+j] - v)); d > 1e-5 {
				t.Fatalf("row %d output %d = %v, want %v (diff %g)", i, j, got[i*ow+j], v, d)
			}
		}
	}
}

func TestInferMatchesGo(t *testing.T) {
	g := testGemm()
	model := loadTest(t, g, SessionConfig{}, nil)
	if model.Provider() != ProviderCPU || model.Width() != 5 || model.OutWidth() != 3 ||
		model.Name() != "test" || model.Version() != "1" || model.Signature().Width() != 5 {
		t.Fatalf("model = %s/%s on %s, width %d, out %d", model.Name(), model.Version(), model.Provider(), model.Width(), model.OutWidth())
	}
	r := rand.New(rand.NewPCG(1, 2))
	var out []float32
	for _, n := range []int{1, 2, 7, 256, 1, 300, 1000, 3} { // 300 and 1000 grow the buffers
		rows := randomRows(r, n, g.width())
		var err error
		out, err = model.Infer(t.Context(), rows, n, out)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		checkOutputs(t, g, rows, out, n)
	}
	if out, err := model.Infer(t.Context(), nil, 0, out); err != nil || len(out) != 0 {
		t.Fatalf("Infer of 0 rows = %v, %v", out, err)
	}
}

func TestInferScoreOutputs(t *testing.T) {
	for _, flat := range []bool{false, true} {
		t.Run(fmt.Sprintf("flat=%v", flat), func(t *testing.T) {
			g := gemmModel{in: "x", out: "score", flat: flat, w: [][]float32{{1, 2, -3}}, b: []float32{0.5}}
			model := loadTest(t, g, SessionConfig{}, nil)
			rows := []float32{1, 1, 1, 0, 0, 0, -1, 0.5, 2}
			out, err := model.Infer(t.Context(), rows, 3, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkOutputs(t, g, rows, out, 3)
			if r := model.Signature().ReadOutput(out[2:]); r.ClassIndex != -1 || r.Score != -5.5 {
				t.Fatalf("ReadOutput = %+v", r)
			}
		})
	}
}

func TestInferConcurrent(t *testing.T) {
	g := testGemm()
	model := loadTest(t, g, SessionConfig{Sessions: 3}, nil)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 9))
			var out []float32
			for i := range 40 {
				n := 1 + (i*7+w)%64
				rows := randomRows(r, n, g.width())
				var err error
				if out, err = model.Infer(t.Context(), rows, n, out); err != nil {
					t.Error(err)
					return
				}
				checkOutputs(t, g, rows, out, n)
			}
		})
	}
	wg.Wait()
}

func TestInferArguments(t *testing.T) {
	model := loadTest(t, testGemm(), SessionConfig{}, nil)
	if _, err := model.Infer(t.Context(), make([]float32, 9), 2, nil); err == nil {
		t.Fatal("Infer with 9 values for 2 rows of 5 succeeded")
	}
	if _, err := model.Infer(t.Context(), nil, -1, nil); err == nil {
		t.Fatal("Infer of -1 rows succeeded")
	}
}

func TestInferWaitsForASession(t *testing.T) {
	model := loadTest(t, testGemm(), SessionConfig{}, nil)
	s := <-model.slots // every session busy
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := model.Infer(ctx, make([]float32, 5), 1, nil)
	model.slots <- s
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

func TestCloseWaitsForInfer(t *testing.T) {
	needRuntime(t)
	g := testGemm()
	sig := testSignature(g)
	model, err := LoadModel("m", "1", g.encode(), sig, SessionConfig{Provider: ProviderCPU, IntraOpThreads: 1, Sessions: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	held := <-model.slots // an Infer in flight
	closed := make(chan error)
	go func() { closed <- model.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned %v while a session was busy", err)
	case <-time.After(20 * time.Millisecond):
	}
	if _, err := model.Infer(t.Context(), make([]float32, 5), 1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Infer while closing = %v, want ErrClosed", err)
	}
	model.slots <- held
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := model.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := model.Infer(t.Context(), make([]float32, 5), 1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Infer after Close = %v, want ErrClosed", err)
	}
}

func TestLoadModelMismatch(t *testing.T) {
	needRuntime(t)
	g := testGemm()
	tests := []struct {
		name   string
		model  gemmModel
		sig    func(*Signature)
		config SessionConfig
		want   []string
	}{
		{"input name", g, func(s *Signature) { s.Input.Tensor = "x" }, SessionConfig{},
			[]string{`model inputs are ["features"]`, `input.tensor is "x"`}},
		{"output name", g, func(s *Signature) { s.Output.Tensor = "scores" }, SessionConfig{},
			[]string{`model outputs are ["probabilities"]`, `output.tensor is "scores"`}},
		{"width", g, func(s *Signature) {
			s.Input.Columns = append(s.Input.Columns, Column{Field: "extra", Kind: KindNumeric})
		}, SessionConfig{},
			[]string{`model input "features" is float32 [N 5]`, `needs float32 [N 6] (6 elements per event)`}},
		{"fixed batch", func() gemmModel { m := g; m.inDims = []any{int64(1), int64(5)}; return m }(), nil, SessionConfig{},
			[]string{`"features" is float32 [1 5]: its batch dimension is fixed at 1; write input.shape: [1, 5]`}},
		{"classes", g, func(s *Signature) { s.Output.Classes = s.Output.Classes[:2] }, SessionConfig{},
			[]string{`model output "probabilities" is float32 [N 3]`, `(probabilities) needs 2 probabilities (one per class) per event`}},
		{"score vs probabilities", g, func(s *Signature) { s.Output.Kind, s.Output.Classes = OutputScore, nil }, SessionConfig{},
			[]string{`model output "probabilities" is float32 [N 3]`, `(score) needs one value per event`}},
		{"bad signature", g, func(s *Signature) { s.Input.Columns[0].Kind = "" }, SessionConfig{},
			[]string{"input.columns[0].kind: empty"}},
		{"bad config", g, nil, SessionConfig{Provider: "tpu"}, []string{`provider: "tpu" is not one of auto, cpu, cuda`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := testSignature(g)
			if tt.sig != nil {
				tt.sig(sig)
			}
			cfg := tt.config
			if cfg.Provider == "" {
				cfg.Provider = ProviderCPU
			}
			_, err := LoadModel("m", "2", tt.model.encode(), sig, cfg, nil)
			if err == nil {
				t.Fatal("LoadModel succeeded")
			}
			for _, w := range append(tt.want, "loading model m version 2") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
	if _, err := LoadModel("m", "3", []byte("not onnx"), testSignature(g), SessionConfig{Provider: ProviderCPU}, nil); err == nil {
		t.Fatal("LoadModel of garbage succeeded")
	}
}

func TestInferAllocations(t *testing.T) {
	g := testGemm()
	model := loadTest(t, g, SessionConfig{}, nil)
	rows := randomRows(rand.New(rand.NewPCG(3, 4)), 64, g.width())
	out := make([]float32, 64*3)
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := model.Infer(t.Context(), rows, 64, out); err != nil {
			t.Fatal(err)
		}
	})
	// onnxruntime_go's Run makes two small slices and two
	// ValueInternalData per call; nothing of ours should allocate.
	if allocs > 4 {
		t.Fatalf("Infer allocates %.1f times per call, want at most 4", allocs)
	}
}
