package training

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

func TestHeavyModel(t *testing.T) {
	m := HeavyMLP(1)
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.In() != 256 || m.Out() != 2 || len(m.Layers) != 3 || m.Layers[1].Out() != 1024 {
		t.Fatalf("shape %d → %d in %d layers", m.In(), m.Out(), len(m.Layers))
	}
	if !reflect.DeepEqual(m, HeavyMLP(1)) || reflect.DeepEqual(m.Layers[0].W[0], HeavyMLP(2).Layers[0].W[0]) {
		t.Fatal("HeavyMLP is not a function of its seed")
	}

	// Events written with HeavySchema decode into rows HeavySignature maps.
	codec, err := goavro.NewCodec(HeavySchema)
	if err != nil {
		t.Fatal(err)
	}
	sig := HeavySignature()
	r := rand.New(rand.NewPCG(1, 1))
	rows := make([][]float32, 4)
	for i := range rows {
		emb := make([]any, 256)
		for k := range emb {
			emb[k] = float32(r.NormFloat64())
		}
		bin, err := codec.BinaryFromNative(nil, map[string]any{
			"event_id":   "e",
			"entity_id":  "k",
			"event_time": time.UnixMilli(1700000000000).UTC(),
			"embedding":  emb,
		})
		if err != nil {
			t.Fatal(err)
		}
		rec, _, err := codec.NativeFromBinary(bin)
		if err != nil {
			t.Fatal(err)
		}
		rows[i] = make([]float32, sig.Width())
		if err := sig.MapRow(rec.(map[string]any), rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	spread := false
	for _, row := range rows {
		if p := m.Forward(row)[1]; p > 0.05 && p < 0.95 {
			spread = true
		}
	}
	if !spread {
		t.Error("heavy model saturates on standard-normal inputs")
	}
	assertMatchesORT(t, m, rows, 1e-5)
}
