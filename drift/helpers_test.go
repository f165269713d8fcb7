package drift

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/sluice-ml/sluice/inference"
)

// testSignature has six normal features, a boolean, a categorical and a
// nullable income, like a small version of the demo model.
func testSignature() *inference.Signature {
	imp := 0.0
	return &inference.Signature{Input: inference.InputSpec{Tensor: "features", Columns: []inference.Column{
		{Field: "x0", Kind: inference.KindNumeric},
		{Field: "x1", Kind: inference.KindNumeric},
		{Field: "x2", Kind: inference.KindNumeric},
		{Field: "x3", Kind: inference.KindNumeric},
		{Field: "x4", Kind: inference.KindNumeric},
		{Field: "x5", Kind: inference.KindNumeric},
		{Field: "flag", Kind: inference.KindBoolean},
		{Field: "channel", Kind: inference.KindCategorical, Vocabulary: []string{"web", "mobile", "pos", "atm"}},
		{Field: "income", Kind: inference.KindNumeric, Impute: &imp},
		{Field: "emb", Kind: inference.KindArray, Length: 4},
	}}, Output: inference.OutputSpec{Tensor: "p", Kind: inference.OutputProbabilities, Classes: []string{"a", "b"}}}
}

var (
	testMeans = []float64{0, 10, -5, 100, 1, 3}
	testStds  = []float64{1, 2, 0.5, 25, 0.1, 4}
	baseMix   = []float64{0.4, 0.3, 0.2, 0.1}
	channels  = []string{"web", "mobile", "pos", "atm"}
)

// gen makes synthetic events: shift moves features by that many standard
// deviations; mix is the channel distribution.
type gen struct {
	rng   *rand.Rand
	shift map[string]float64
	mix   []float64
}

func newGen(seed uint64) *gen {
	return &gen{rng: rand.New(rand.NewPCG(seed, 7)), shift: map[string]float64{}, mix: baseMix}
}

// testNames is the order the tests' writer schema gives gen's fields in.
var testNames = []string{"x0", "x1", "x2", "x3", "x4", "x5", "flag", "channel", "income", "emb"}

// fieldsOf lays rec out in the order of names, as the decoder gives a
// record (nil for a field rec lacks).
func fieldsOf(names []string, rec map[string]any) []any {
	values := make([]any, len(names))
	for i, n := range names {
		values[i] = rec[n]
	}
	return values
}

// observer is what the pipeline's drift tap calls: Monitor and Active.
type observer interface {
	Sample() bool
	Observe(names []string, values []any, score float32)
}

// offer does what the pipeline does with one scored event: Sample, and
// Observe the record as fields when it was picked.
func offer(o observer, rec map[string]any, score float32) {
	if o.Sample() {
		o.Observe(testNames, fieldsOf(testNames, rec), score)
	}
}

// offerNext offers g's next event to o.
func offerNext(o observer, g *gen) {
	rec, score := g.next()
	offer(o, rec, score)
}

func (g *gen) next() (map[string]any, float32) {
	rec := make(map[string]any, 10)
	names := [...]string{"x0", "x1", "x2", "x3", "x4", "x5"}
	for i, n := range names {
		rec[n] = testMeans[i] + testStds[i]*(g.rng.NormFloat64()+g.shift[n])
	}
	rec["flag"] = g.rng.Float64() < 0.3
	u, c := g.rng.Float64(), 0
	for c < len(g.mix)-1 && u >= g.mix[c] {
		u -= g.mix[c]
		c++
	}
	rec["channel"] = channels[c]
	if g.rng.Float64() < 0.2 {
		rec["income"] = nil
	} else {
		rec["income"] = math.Exp(10 + 0.5*g.rng.NormFloat64())
	}
	rec["emb"] = []any{1.0, 2.0, 3.0, 4.0}
	z := 0.8*rec["x0"].(float64) - 0.02*(rec["x3"].(float64)-100)
	if c == 3 {
		z += 1
	}
	return rec, float32(1 / (1 + math.Exp(-z)))
}

var (
	sharedMu       sync.Mutex
	sharedProfiles = map[int]*Profile{}
)

// testProfile is the profile of rows events of the stationary generator
// (seed 1), built once per size: profiles are immutable.
func testProfile(t testing.TB, rows int) *Profile {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if p := sharedProfiles[rows]; p != nil {
		return p
	}
	p := buildTestProfile(t, rows)
	sharedProfiles[rows] = p
	return p
}

func buildTestProfile(t testing.TB, rows int) *Profile {
	t.Helper()
	g := newGen(1)
	p, err := BuildProfile(FeaturesFromSignature(testSignature()), func(yield func(map[string]any, float32) bool) {
		for range rows {
			if !yield(g.next()) {
				return
			}
		}
	}, ProfileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// captureSink keeps every event, after checking that it encodes with its
// schema, as the decoded native value.
type captureSink struct {
	mu     sync.Mutex
	codecs map[string]*goavro.Codec
	events map[string][]map[string]any
}

func newCaptureSink() *captureSink {
	return &captureSink{codecs: map[string]*goavro.Codec{}, events: map[string][]map[string]any{}}
}

var _ Sink = (*captureSink)(nil)

func (s *captureSink) Emit(_ context.Context, topic, key string, native map[string]any, schema string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codecs[schema]
	if c == nil {
		var err error
		if c, err = goavro.NewCodec(schema); err != nil {
			return err
		}
		s.codecs[schema] = c
	}
	b, err := c.BinaryFromNative(nil, native)
	if err != nil {
		return err
	}
	d, _, err := c.NativeFromBinary(b)
	if err != nil {
		return err
	}
	m := d.(map[string]any)
	m["_key"] = key
	s.events[topic] = append(s.events[topic], m)
	return nil
}

func (s *captureSink) get(topic string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.events[topic]...)
}

// driftedFeatures lists the drifted features of a decoded report or request.
func driftedFeatures(ev map[string]any) []string {
	var out []string
	for _, f := range ev["features"].([]any) {
		fm := f.(map[string]any)
		if fm["drifted"].(bool) {
			out = append(out, fm["feature"].(string))
		}
	}
	return out
}

func featureOf(ev map[string]any, name string) map[string]any {
	for _, f := range ev["features"].([]any) {
		if fm := f.(map[string]any); fm["feature"] == name {
			return fm
		}
	}
	return nil
}
