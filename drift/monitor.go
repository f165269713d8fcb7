package drift

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Monitor watches one model version: it bins the events it is shown,
// flushes the counts into the group's shared window in Redis, and
// evaluates the windows it closes. Sample and Observe are safe for
// concurrent use and never touch the network; Run does the rest.
type Monitor struct {
	seen      atomic.Uint64 // events offered to Sample
	every     atomic.Uint64 // bin one event in this many (SampleEvery, raised by MaxRate)
	cfg       Config
	model     string
	version   string
	worker    string
	lay       *layout
	fp        string
	rdb       redis.UniversalClient
	sink      Sink
	met       *Metrics
	log       *slog.Logger
	now       func() time.Time
	keys      keys
	decision  *Decision
	gate      *Gate
	stackSafe bool // every event's bins fit the stack buffer of Observe

	fieldPos atomic.Pointer[fieldPositions] // see Observe

	mu   sync.Mutex
	acc  *counts // filled by Observe
	kick chan struct{}

	flushMu sync.Mutex // one flush at a time; guards what follows
	spare   *counts
	pending *counts // counts not yet in Redis (kept across failed flushes)
	lost    int64   // events dropped after too long an outage
	retry   bool    // pending holds counts from a failed flush
	epoch   string  // the Redis state epoch this worker last wrote to
	down    bool    // an outage is under way (for logging once)

	umu        sync.Mutex
	unfinished []string // closed windows whose evaluation failed

	// Run's alone: where the last rate measurement started.
	rateSeen uint64
	rateAt   time.Time
}

// counts is one set of bin counts and the number of events behind them.
type counts struct {
	n int64
	c []int64
}

func (c *counts) reset() {
	c.n = 0
	clear(c.c)
}

// Option configures a Monitor.
type Option func(*Monitor)

// WithMetrics makes the monitor record into m.
func WithMetrics(m *Metrics) Option { return func(mo *Monitor) { mo.met = m } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(mo *Monitor) { mo.log = l } }

// WithClock sets the clock used for window times (default time.Now).
func WithClock(now func() time.Time) Option { return func(mo *Monitor) { mo.now = now } }

// WithWorkerID names this worker in shared windows (default hostname and
// a random suffix). It must be unique within the group.
func WithWorkerID(id string) Option { return func(mo *Monitor) { mo.worker = id } }

// WithRoute keeps the monitor's windows apart from other routes' traffic
// to the same model version: workers of one route (one consumer group)
// merge their counts, and two routes serving one model never do. The
// retrain decision (k of m windows) and its cooldown stay per model
// version, fed by every route's windows. Without it (route ""), windows
// are the version's, as for a process with one route.
func WithRoute(route string) Option {
	return func(mo *Monitor) { mo.keys = newRouteKeys(mo.model, mo.version, route) }
}

// ErrNoSink is returned by NewMonitor without a sink.
var ErrNoSink = errors.New("drift: no sink")

// NewMonitor returns a monitor for one model version, comparing its
// traffic with profile p. Workers of one group must use the same profile
// for a version. rdb may be a cluster client: every key of a model version
// shares one hash tag.
func NewMonitor(cfg Config, model, version string, p *Profile, rdb redis.UniversalClient, sink Sink, opts ...Option) (*Monitor, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if model == "" || version == "" {
		return nil, fmt.Errorf("%w: model name and version are required", ErrBadConfig)
	}
	if sink == nil {
		return nil, ErrNoSink
	}
	m := &Monitor{
		cfg: cfg, model: model, version: version, rdb: rdb, sink: sink,
		lay: newLayout(p), fp: p.fingerprint(), log: slog.Default(), now: time.Now,
		kick: make(chan struct{}, 1), keys: newKeys(model, version),
		decision: NewDecision(rdb, model, version, SeriesDrift, cfg), gate: NewGate(rdb, cfg),
	}
	for _, o := range opts {
		o(m)
	}
	if m.worker == "" {
		h, _ := os.Hostname()
		m.worker = h + "-" + randomHex(4)
	}
	m.acc, m.spare, m.pending = m.newCounts(), m.newCounts(), m.newCounts()
	m.stackSafe = len(m.lay.feats)+1 <= stackBins
	m.every.Store(uint64(m.cfg.SampleEvery))
	m.met.sampling(model, m.cfg.SampleEvery)
	m.log = m.log.With("model", model, "version", version)
	return m, nil
}

func (m *Monitor) newCounts() *counts { return &counts{c: make([]int64, m.lay.bins)} }

// Model returns the model name and version the monitor watches.
func (m *Monitor) Model() (name, version string) { return m.model, m.version }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
