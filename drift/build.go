package drift

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
)

// ProfileOptions tunes how a profile is built. The zero value uses the
// defaults.
type ProfileOptions struct {
	// Bins is the number of quantile bins per numeric feature (default 20).
	// Repeated quantiles (discrete features) give fewer bins.
	Bins int
	// MaxRows bounds memory: rows beyond it are reservoir-sampled
	// (default 250,000).
	MaxRows int
	// MaxCategories bounds the categories kept per categorical feature
	// beyond its vocabulary, most frequent first (default 50).
	MaxCategories int
	// Seed makes the reservoir sample reproducible.
	Seed uint64
	// ScoreColumn names a column of the data file that holds the model's
	// score (ProfileFromCSV, ProfileFromOCF).
	ScoreColumn string
	// Score computes the model's score for a row read from a data file,
	// when ScoreColumn is empty. Nil and no ScoreColumn: no score profile.
	Score func(rec map[string]any) (float32, error)
}

func (o ProfileOptions) withDefaults() ProfileOptions {
	if o.Bins <= 1 {
		o.Bins = 20
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 250_000
	}
	if o.MaxCategories <= 0 {
		o.MaxCategories = 50
	}
	return o
}

// ErrNoRows is returned when a profile is built from no data.
var ErrNoRows = errors.New("drift: no rows to profile")

// BuildProfile builds a reference profile of features from rows: decoded
// records (plain Go values, nil for null) each with the model's score on
// it. Pass a NaN score when there is none; a profile whose rows all lack a
// score has no score histogram.
func BuildProfile(features []FeatureSpec, rows iter.Seq2[map[string]any, float32], opts ProfileOptions) (*Profile, error) {
	b, err := NewProfileBuilder(features, opts)
	if err != nil {
		return nil, err
	}
	for rec, score := range rows {
		b.Add(rec, score)
	}
	return b.Profile()
}

// ProfileBuilder accumulates rows for a profile. It is not safe for
// concurrent use.
type ProfileBuilder struct {
	opts  ProfileOptions
	specs []FeatureSpec
	rng   *rand.Rand
	seen  int64
	num   [][]float64 // per numeric feature, NaN = missing
	cat   [][]int32   // per categorical feature, -1 = missing
	ids   []map[string]int32
	names [][]string
	score []float64
	numAt []int // spec index of each numeric feature
	catAt []int
}

// NewProfileBuilder returns a builder for the given features.
func NewProfileBuilder(features []FeatureSpec, opts ProfileOptions) (*ProfileBuilder, error) {
	opts = opts.withDefaults()
	b := &ProfileBuilder{opts: opts, specs: features, rng: rand.New(rand.NewPCG(opts.Seed, 0x5eed))}
	seen := map[string]bool{}
	for i, f := range features {
		if f.Name == "" || seen[f.Name] {
			return nil, fmt.Errorf("%w: empty or repeated feature name %q", ErrBadProfile, f.Name)
		}
		seen[f.Name] = true
		switch f.Kind {
		case Numeric:
			b.numAt = append(b.numAt, i)
		case Categorical:
			b.catAt = append(b.catAt, i)
			b.ids = append(b.ids, map[string]int32{})
			b.names = append(b.names, nil)
		default:
			return nil, fmt.Errorf("%w: feature %s: unknown kind %q", ErrBadProfile, f.Name, f.Kind)
		}
	}
	b.num = make([][]float64, len(b.numAt))
	b.cat = make([][]int32, len(b.catAt))
	return b, nil
}

// Add adds one row: a decoded record and the model's score (NaN: none).
func (b *ProfileBuilder) Add(rec map[string]any, score float32) {
	slot := len(b.score)
	b.seen++
	if slot >= b.opts.MaxRows {
		j := b.rng.Int64N(b.seen)
		if j >= int64(b.opts.MaxRows) {
			return
		}
		slot = int(j)
	}
	put := func(s []float64, v float64) []float64 {
		if slot == len(s) {
			return append(s, v)
		}
		s[slot] = v
		return s
	}
	for k, i := range b.numAt {
		x, ok := numberOf(rec[b.specs[i].Name])
		if !ok || math.IsInf(x, 0) {
			x = math.NaN()
		}
		b.num[k] = put(b.num[k], x)
	}
	for k, i := range b.catAt {
		id := int32(-1)
		if s, ok := stringOf(rec[b.specs[i].Name]); ok {
			var known bool
			if id, known = b.ids[k][s]; !known {
				id = int32(len(b.names[k]))
				b.ids[k][s] = id
				b.names[k] = append(b.names[k], s)
			}
		}
		if slot == len(b.cat[k]) {
			b.cat[k] = append(b.cat[k], id)
		} else {
			b.cat[k][slot] = id
		}
	}
	b.score = put(b.score, float64(score))
}

// Profile returns the profile of the rows added so far.
func (b *ProfileBuilder) Profile() (*Profile, error) {
	if b.seen == 0 {
		return nil, ErrNoRows
	}
	p := &Profile{Format: ProfileFormat, Rows: b.seen}
	for k, i := range b.numAt {
		p.Numeric = append(p.Numeric, numericProfile(b.specs[i].Name, b.num[k], b.opts.Bins))
	}
	for k, i := range b.catAt {
		p.Categorical = append(p.Categorical, categoricalProfile(b.specs[i], b.cat[k], b.names[k], b.opts.MaxCategories))
	}
	for _, s := range b.score {
		if !math.IsNaN(s) {
			sp := numericProfile("score", b.score, b.opts.Bins)
			p.Score = &sp
			break
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}
