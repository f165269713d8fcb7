package training

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// randomMLP builds a model with the given widths and random weights.
func randomMLP(seed uint64, output string, widths ...int) *MLP {
	r := rand.New(rand.NewPCG(seed, 1))
	m := &MLP{Output: output}
	for i := 1; i < len(widths); i++ {
		d := Dense{W: make([][]float32, widths[i]), B: make([]float32, widths[i])}
		for j := range d.W {
			d.W[j] = make([]float32, widths[i-1])
			for k := range d.W[j] {
				d.W[j][k] = float32(r.NormFloat64() / math.Sqrt(float64(widths[i-1])))
			}
			d.B[j] = float32(0.1 * r.NormFloat64())
		}
		if i < len(widths)-1 {
			d.Act = ActRelu
		}
		m.Layers = append(m.Layers, d)
	}
	return m
}

func randomRows(seed uint64, n, width int, scale float64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 2))
	rows := make([][]float32, n)
	for i := range rows {
		rows[i] = make([]float32, width)
		for k := range rows[i] {
			rows[i][k] = float32(scale * r.NormFloat64())
		}
	}
	return rows
}

// assertMatchesORT checks that ONNX Runtime computes Forward on rows.
func assertMatchesORT(t *testing.T, m *MLP, rows [][]float32, tol float64) {
	t.Helper()
	model, err := WriteONNX(m, "features", "probabilities")
	if err != nil {
		t.Fatal(err)
	}
	got := runORT(t, model, "features", "probabilities", rows, m.Out())
	worst := 0.0
	for i, row := range rows {
		want := m.Forward(row)
		for j := range want {
			worst = max(worst, math.Abs(float64(got[i][j]-want[j])))
			if d := math.Abs(float64(got[i][j] - want[j])); d > tol {
				t.Fatalf("row %d output %d: ONNX Runtime %v, Forward %v (diff %g)", i, j, got[i][j], want[j], d)
			}
		}
	}
	t.Logf("largest difference %g", worst)
}

func TestONNXMatchesForward(t *testing.T) {
	tests := []struct {
		name   string
		m      *MLP
		scale  float64
		tol    float64
		rows   int
		inputs int
	}{
		{"logistic softmax", randomMLP(1, OutputSoftmax, 5, 2), 2, 1e-5, 64, 5},
		{"relu mlp softmax", randomMLP(2, OutputSoftmax, 12, 16, 8, 3), 2, 1e-5, 64, 12},
		{"relu mlp sigmoid", randomMLP(3, OutputSigmoid, 7, 9, 1), 2, 1e-5, 33, 7},
		{"relu mlp raw scores", randomMLP(4, OutputNone, 6, 10, 4), 1, 1e-5, 17, 6},
		{"single row", randomMLP(5, OutputSoftmax, 4, 3, 2), 1, 1e-5, 1, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertMatchesORT(t, tt.m, randomRows(uint64(tt.rows), tt.rows, tt.inputs, tt.scale), tt.tol)
		})
	}
}

func TestONNXReluOnLastLayer(t *testing.T) {
	m := randomMLP(6, OutputNone, 5, 4)
	m.Layers[0].Act = ActRelu
	assertMatchesORT(t, m, randomRows(7, 20, 5, 1), 1e-5)
}

func TestONNXSpelledNone(t *testing.T) {
	m := randomMLP(10, "none", 5, 3, 2)
	m.Layers[1].Act = "none"
	assertMatchesORT(t, m, randomRows(8, 10, 5, 1), 1e-5)
}

func TestWriteONNXRejects(t *testing.T) {
	good := randomMLP(8, OutputSoftmax, 3, 2)
	tests := []struct {
		name    string
		m       *MLP
		in, out string
	}{
		{"no layers", &MLP{Output: OutputSoftmax}, "x", "y"},
		{"same names", good, "x", "x"},
		{"empty name", good, "", "y"},
		{"bad output", &MLP{Layers: good.Layers, Output: "tanh"}, "x", "y"},
		{"bad act", &MLP{Layers: []Dense{{W: [][]float32{{1}}, B: []float32{0}, Act: "gelu"}}}, "x", "y"},
		{"ragged", &MLP{Layers: []Dense{{W: [][]float32{{1, 2}, {3}}, B: []float32{0, 0}}}}, "x", "y"},
		{"bias count", &MLP{Layers: []Dense{{W: [][]float32{{1}}, B: []float32{0, 1}}}}, "x", "y"},
		{"chain", &MLP{Layers: []Dense{{W: [][]float32{{1}}, B: []float32{0}}, {W: [][]float32{{1, 1}}, B: []float32{0}}}}, "x", "y"},
		{"nan", &MLP{Layers: []Dense{{W: [][]float32{{float32(math.NaN())}}, B: []float32{0}}}}, "x", "y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := WriteONNX(tt.m, tt.in, tt.out); err == nil {
				t.Fatal("WriteONNX succeeded")
			}
		})
	}
}

func TestONNXHeader(t *testing.T) {
	model, err := WriteONNX(randomMLP(9, OutputSoftmax, 3, 2), "in", "out")
	if err != nil {
		t.Fatal(err)
	}
	fields := map[protowire.Number][]byte{}
	var ir uint64
	for b := model; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatal(protowire.ParseError(n))
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if num == 1 {
				ir = v
			}
			b = b[m:]
		case protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			fields[num] = v
			b = b[m:]
		default:
			t.Fatalf("field %d has wire type %d", num, typ)
		}
	}
	if ir != 8 || string(fields[2]) != "sluice" || fields[7] == nil {
		t.Fatalf("ir_version %d, producer %q, graph %d bytes", ir, fields[2], len(fields[7]))
	}
	want := protowire.AppendTag(nil, 1, protowire.BytesType)
	want = protowire.AppendString(want, "")
	want = protowire.AppendTag(want, 2, protowire.VarintType)
	want = protowire.AppendVarint(want, 13)
	if !bytes.Equal(fields[8], want) {
		t.Fatalf("opset_import %x, want %x", fields[8], want)
	}
}
