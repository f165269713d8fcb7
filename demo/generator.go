package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Generator produces synthetic card transactions. The stream is a pure
// function of the seed and options (unless WithClock is used). A Generator
// is not safe for concurrent use: give each goroutine its own.
type Generator struct {
	r      *rand.Rand
	cards  []card
	mix    [numChannels]float64 // cumulative
	drifts []activeDrift
	clock  func() time.Time
	nowMs  int64
	n      int
}

// Option configures a Generator.
type Option func(*options)

type options struct {
	cards  int
	start  time.Time
	clock  func() time.Time
	drifts []Drift
}

// WithCards sets the size of the card pool (default 10000); entity ids are
// "card-000000" and up.
func WithCards(n int) Option { return func(o *options) { o.cards = max(1, n) } }

// WithStart sets the event_time of the first event (default
// 2026-01-01T00:00:00Z); later events follow at exponential gaps of 100ms on
// average.
func WithStart(t time.Time) Option { return func(o *options) { o.start = t } }

// WithClock stamps each event with now() instead of the synthetic clock.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// WithDrift adds a drift; several drifts add up. NewGenerator panics if
// d.Validate fails, so validate input from users first.
func WithDrift(d Drift) Option { return func(o *options) { o.drifts = append(o.drifts, d) } }

// NewGenerator returns a generator seeded with seed.
func NewGenerator(seed int64, opts ...Option) *Generator {
	o := options{cards: 10000, start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, opt := range opts {
		opt(&o)
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x736c75696365)) // "sluice"
	g := &Generator{
		r:     r,
		cards: make([]card, o.cards),
		mix:   cumulative(defaultMix),
		clock: o.clock,
		nowMs: o.start.UnixMilli(),
	}
	for i := range g.cards {
		g.cards[i] = newCard(r, fmt.Sprintf("card-%06d", i))
	}
	for _, d := range o.drifts {
		g.drifts = append(g.drifts, resolveDrift(d))
	}
	return g
}

// Next returns the next transaction as a goavro-native map for
// transaction.avsc. It is NextLabelled without the label; both advance the
// same stream.
func (g *Generator) Next() map[string]any {
	rec, _ := g.NextLabelled()
	return rec
}

// NextLabelled returns the next transaction and its fraud label.
func (g *Generator) NextLabelled() (rec map[string]any, fraud bool) {
	var t txn
	id := g.eventID()
	fraud = g.nextTxn(&t)
	var ts time.Time
	if g.clock != nil {
		ts = g.clock().UTC().Truncate(time.Millisecond)
	} else {
		ts = time.UnixMilli(g.nowMs).UTC()
		g.nowMs += int64(math.Round(100 * g.r.ExpFloat64()))
	}

	rec = make(map[string]any, 6+numFeatures)
	rec[FieldEventID] = id
	rec[FieldEntityID] = t.card.id
	rec[FieldEventTime] = ts
	for i, f := range numericFields {
		rec[f] = t.x[i]
	}
	rec[FieldCardPresent] = t.cardPresent
	rec[FieldChannel] = channelNames[t.channel]
	if math.IsNaN(t.card.income) {
		rec[FieldCustomerIncome] = nil
	} else {
		rec[FieldCustomerIncome] = map[string]any{"double": t.card.income}
	}
	return rec, fraud
}

// nextTxn draws one event's features, applies drift and returns its label.
func (g *Generator) nextTxn(t *txn) bool {
	r := g.r
	mix := &g.mix
	for i := range g.drifts {
		if d := &g.drifts[i]; g.n >= d.after && d.mix != nil {
			mix = d.mix
		}
	}
	t.card = &g.cards[r.IntN(len(g.cards))]
	t.channel = pick(mix[:], r.Float64())
	sample(r, t)
	for i := range g.drifts {
		if d := &g.drifts[i]; g.n >= d.after {
			for k, idx := range d.idx {
				t.x[idx] += d.delta[k]
			}
		}
	}
	z := logit(&t.x, t.channel, t.cardPresent)
	for i := range g.drifts {
		if d := &g.drifts[i]; d.concept && g.n >= d.after {
			z = conceptLogit(&t.x, t.channel, t.cardPresent)
		}
	}
	g.n++
	fraud := r.Float64() < sigmoid(z)
	if r.Float64() < labelNoise {
		fraud = !fraud
	}
	return fraud
}

const hexDigits = "0123456789abcdef"

// eventID returns a random version-4 UUID drawn from the generator's stream.
func (g *Generator) eventID() string {
	hi, lo := g.r.Uint64(), g.r.Uint64()
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	var b [36]byte
	pos := 0
	put := func(v uint64, nibbles int) {
		for i := nibbles - 1; i >= 0; i-- {
			b[pos] = hexDigits[(v>>(uint(i)*4))&0xf]
			pos++
		}
	}
	put(hi>>32, 8)
	b[pos] = '-'
	pos++
	put(hi>>16, 4)
	b[pos] = '-'
	pos++
	put(hi, 4)
	b[pos] = '-'
	pos++
	put(lo>>48, 4)
	b[pos] = '-'
	pos++
	put(lo, 12)
	return string(b[:])
}
