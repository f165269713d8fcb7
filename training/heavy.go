package training

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sluice-ml/sluice/inference"
)

// Shape of the heavy benchmark model.
const (
	HeavyInputWidth = 256
	HeavyHidden     = 1024
	HeavyField      = "embedding"
)

// HeavySchema is the Avro schema of the heavy benchmark's input events
// (record sluice.bench.Embedding): an event id, an entity id, an event time
// and a 256-float embedding.
const HeavySchema = `{
  "type": "record",
  "name": "Embedding",
  "namespace": "sluice.bench",
  "doc": "Input of the heavy benchmark model: a 256-float embedding per event.",
  "fields": [
    {"name": "event_id", "type": "string"},
    {"name": "entity_id", "type": "string"},
    {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "embedding", "type": {"type": "array", "items": "float"}}
  ]
}`

// HeavyMLP returns the heavy benchmark model, 256 → 1024 → 1024 → 2 with
// relu hidden layers and a softmax, with random weights drawn from seed (He
// scaling for the relu layers, so its outputs stay spread out on
// standard-normal inputs). Each call returns a new model; it is safe for
// concurrent use.
func HeavyMLP(seed int64) *MLP {
	r := rand.New(rand.NewPCG(uint64(seed), 0x6865617679))
	widths := []int{HeavyInputWidth, HeavyHidden, HeavyHidden, 2}
	m := &MLP{Output: OutputSoftmax}
	for i := 1; i < len(widths); i++ {
		in, out := widths[i-1], widths[i]
		relu := i < len(widths)-1
		scale := math.Sqrt(1 / float64(in))
		if relu {
			scale = math.Sqrt(2 / float64(in))
		}
		d := Dense{W: make([][]float32, out), B: make([]float32, out)}
		flat := make([]float32, in*out)
		for j := range d.W {
			d.W[j] = flat[j*in : (j+1)*in : (j+1)*in]
			for k := range d.W[j] {
				d.W[j][k] = float32(scale * r.NormFloat64())
			}
		}
		if relu {
			d.Act = ActRelu
		}
		m.Layers = append(m.Layers, d)
	}
	return m
}

// HeavySignature returns the validated signature of the heavy model: input
// tensor "features" filled from the 256-element array field "embedding",
// output "probabilities" over classes negative and positive. Each call
// returns a new Signature; it is safe for concurrent use.
func HeavySignature() *inference.Signature {
	sig := &inference.Signature{
		Input: inference.InputSpec{
			Tensor:  DemoInputTensor,
			Columns: []inference.Column{{Field: HeavyField, Kind: inference.KindArray, Length: HeavyInputWidth}},
		},
		Output: inference.OutputSpec{
			Tensor:  DemoOutputTensor,
			Kind:    inference.OutputProbabilities,
			Classes: []string{"negative", "positive"},
		},
	}
	if err := sig.Validate(); err != nil {
		panic(fmt.Sprintf("retrain: heavy signature: %v", err))
	}
	return sig
}
