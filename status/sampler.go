package status

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/admin"
)

// Config is how often the sampler gathers and how much it keeps.
type Config struct {
	// Interval between samples (default 1s).
	Interval time.Duration `yaml:"interval"`
	// Window is what current rates and percentiles are computed over
	// (default 10s).
	Window time.Duration `yaml:"window"`
	// History is how many samples the throughput and latency charts keep
	// (default 300: five minutes at 1s).
	History int `yaml:"history"`
	// DriftWindows is how many drift windows the drift charts keep
	// (default 30).
	DriftWindows int `yaml:"drift_windows"`
	// Events is how many retrain and model events the list keeps
	// (default 50).
	Events int `yaml:"events"`
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Interval == 0 {
		c.Interval = time.Second
	}
	if c.Window == 0 {
		c.Window = 10 * time.Second
	}
	if c.History == 0 {
		c.History = 300
	}
	if c.DriftWindows == 0 {
		c.DriftWindows = 30
	}
	if c.Events == 0 {
		c.Events = 50
	}
	return c
}

// Validate reports the first field out of range, by its YAML name.
func (c Config) Validate() error {
	switch {
	case c.Interval <= 0:
		return fmt.Errorf("status.interval: must be positive, got %s", c.Interval)
	case c.Window < c.Interval:
		return fmt.Errorf("status.window: must be at least interval (%s), got %s", c.Interval, c.Window)
	case c.History < 2:
		return fmt.Errorf("status.history: must be at least 2, got %d", c.History)
	case c.DriftWindows < 1:
		return fmt.Errorf("status.drift_windows: must be positive, got %d", c.DriftWindows)
	case c.Events < 1:
		return fmt.Errorf("status.events: must be positive, got %d", c.Events)
	}
	return nil
}

// Sampler gathers a registry at a fixed interval and keeps what the status
// page shows. Sample, Status and the handlers are safe for concurrent use.
type Sampler struct {
	g   prometheus.Gatherer
	cfg Config

	readiness func() (bool, []admin.Condition) // nil: not shown

	mu      sync.Mutex
	samples []*snapshot // oldest first, at most cfg.History
	drift   driftHistory
	events  eventLog
}

// SetReadiness gives the sampler the worker's readiness (what /readyz
// answers: admin.Server.Readiness), for the status page to say why the
// worker is not ready. Call it before the sampler serves.
func (s *Sampler) SetReadiness(f func() (ready bool, conditions []admin.Condition)) {
	s.readiness = f
}

// NewSampler returns a sampler of g; cfg's zero fields take defaults.
func NewSampler(g prometheus.Gatherer, cfg Config) (*Sampler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sampler{g: g, cfg: cfg, drift: driftHistory{max: cfg.DriftWindows}, events: eventLog{max: cfg.Events}}, nil
}

// Run samples every Interval until ctx ends, then returns nil. A failed
// gather is skipped (the next one tries again).
func (s *Sampler) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	_ = s.Sample(time.Now())
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			_ = s.Sample(now)
		}
	}
}

// Sample gathers the registry once and records it as taken at now. Tests
// call it with their own clock; Run calls it on its ticker. Partial
// gathers (a collector failed) are recorded with what they have.
func (s *Sampler) Sample(now time.Time) error {
	fams, err := s.g.Gather()
	if len(fams) == 0 && err != nil {
		return fmt.Errorf("status: gathering metrics: %w", err)
	}
	snap := read(now, fams)
	s.mu.Lock()
	defer s.mu.Unlock()
	var prev *snapshot
	if n := len(s.samples); n > 0 {
		prev = s.samples[n-1]
	}
	s.drift.observe(prev, snap)
	s.events.observe(prev, snap)
	if len(s.samples) == s.cfg.History {
		copy(s.samples, s.samples[1:])
		s.samples = s.samples[:len(s.samples)-1]
	}
	s.samples = append(s.samples, snap)
	return err
}
