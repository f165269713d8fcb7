package drift

import (
	"errors"
	"time"

	"github.com/sluice-ml/sluice/internal/keyerr"
)

// Config tunes windows, tests and the retrain trigger. Zero fields take
// their defaults (DefaultConfig), so a partial YAML block is fine.
type Config struct {
	// WindowEvents closes a window once the group has seen this many events
	// (default 5000).
	WindowEvents int `yaml:"window_events"`
	// WindowDuration closes a window this long after it opened (default
	// 60s), provided it holds at least MinWindowEvents.
	WindowDuration time.Duration `yaml:"window_duration"`
	// MinWindowEvents is the fewest events a window needs to close by time
	// (default 500); a quieter window stays open until it has them, because
	// the tests mean little on a handful of events. -1 disables it.
	MinWindowEvents int `yaml:"min_window_events"`
	// FlushInterval is how often a worker sends its counts to Redis and
	// checks the window clock (default 1s).
	FlushInterval time.Duration `yaml:"flush_interval"`
	// FlushEvents makes a worker flush early after this many local events
	// (default WindowEvents/10), so windows close near WindowEvents.
	FlushEvents int `yaml:"flush_events"`
	// SampleEvery observes one event in this many (default 1: every
	// event). Windows then count observed events, so a window of
	// WindowEvents spans SampleEvery times as many events; raise it when
	// the tap costs more throughput than drift is worth.
	SampleEvery int `yaml:"sample_every"`
	// MaxRate is the most events per second one worker bins (default
	// 5000; -1: every event however fast). Above it the monitor bins one
	// event in k, k (at least SampleEvery) set at each flush interval from
	// the rate of the last one. Windows count binned events, so a window
	// keeps its size and statistical power and only spans more traffic,
	// while the tap's cost (binning, flushes, evaluations) stops growing
	// with throughput.
	MaxRate int `yaml:"max_rate"`
	// PSIThreshold flags a feature whose PSI exceeds it (default 0.2).
	PSIThreshold float64 `yaml:"psi_threshold"`
	// PValue is the family-wise significance of the KS and chi-squared
	// tests of one window; each test uses PValue divided by the number of
	// tests (Bonferroni). Default 0.01.
	PValue float64 `yaml:"p_value"`
	// RetrainK of the last RetrainM evaluated windows must have drifted to
	// request a retrain (defaults 2 and 3).
	RetrainK int `yaml:"retrain_k"`
	RetrainM int `yaml:"retrain_m"`
	// Cooldown is how long after a retrain request no other is sent for the
	// same model version, by any worker or for any reason (drift or live
	// quality); a version promoted meanwhile has a cooldown of its own
	// (default 1h).
	Cooldown time.Duration `yaml:"cooldown"`
	// MaxRequestsPerHour caps the retrain requests of one model, all its
	// versions together, in any hour (default 4; -1: no cap), so that
	// versions that keep failing cannot start a storm.
	MaxRequestsPerHour int `yaml:"max_requests_per_hour"`
	// ReportsTopic and RetrainTopic name where events go (defaults
	// drift-reports and retrain-requests).
	ReportsTopic string `yaml:"reports_topic"`
	RetrainTopic string `yaml:"retrain_topic"`
	// RedisTimeout bounds each Redis round trip (default 2s).
	RedisTimeout time.Duration `yaml:"redis_timeout"`
	// CloseLease is how long a worker may take to evaluate a closed window
	// before another worker takes it over (default 30s).
	CloseLease time.Duration `yaml:"close_lease"`
	// WindowTTL is how long Redis keeps a window's counts and state when no
	// one evaluates it (default 1h).
	WindowTTL time.Duration `yaml:"window_ttl"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		WindowEvents:       5000,
		WindowDuration:     60 * time.Second,
		MinWindowEvents:    500,
		FlushInterval:      time.Second,
		PSIThreshold:       0.2,
		PValue:             0.01,
		RetrainK:           2,
		RetrainM:           3,
		Cooldown:           time.Hour,
		MaxRequestsPerHour: 4,
		ReportsTopic:       "drift-reports",
		RetrainTopic:       "retrain-requests",
		SampleEvery:        1,
		MaxRate:            5000,
		RedisTimeout:       2 * time.Second,
		CloseLease:         30 * time.Second,
		WindowTTL:          time.Hour,
	}
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	set := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.WindowEvents, d.WindowEvents)
	set(&c.SampleEvery, 1)
	set(&c.MaxRate, d.MaxRate)
	set(&c.MinWindowEvents, d.MinWindowEvents)
	set(&c.RetrainK, d.RetrainK)
	set(&c.RetrainM, d.RetrainM)
	set(&c.MaxRequestsPerHour, d.MaxRequestsPerHour)
	set(&c.FlushEvents, max(1, c.WindowEvents/10))
	setD(&c.WindowDuration, d.WindowDuration)
	setD(&c.FlushInterval, d.FlushInterval)
	setD(&c.Cooldown, d.Cooldown)
	setD(&c.RedisTimeout, d.RedisTimeout)
	setD(&c.CloseLease, d.CloseLease)
	setD(&c.WindowTTL, d.WindowTTL)
	if c.PSIThreshold == 0 {
		c.PSIThreshold = d.PSIThreshold
	}
	if c.PValue == 0 {
		c.PValue = d.PValue
	}
	if c.ReportsTopic == "" {
		c.ReportsTopic = d.ReportsTopic
	}
	if c.RetrainTopic == "" {
		c.RetrainTopic = d.RetrainTopic
	}
	return c
}

// ErrBadConfig is wrapped by Validate's errors.
var ErrBadConfig = errors.New("drift: bad config")

// Validate checks c after defaults are applied and reports every field
// that cannot work by its key under drift ("drift.p_value: must be in
// (0, 1), got 1.5"); each error matches ErrBadConfig.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	check := func(ok bool, key, format string, args ...any) {
		if !ok {
			errs = append(errs, keyerr.Wrap(ErrBadConfig, "drift."+key, format, args...))
		}
	}
	check(c.SampleEvery >= 1, "sample_every", "must be at least 1, got %d", c.SampleEvery)
	check(c.MaxRate >= -1, "max_rate", "must be positive, or -1 for no limit, got %d", c.MaxRate)
	check(c.WindowEvents >= 1, "window_events", "must be at least 1, got %d", c.WindowEvents)
	check(c.WindowDuration >= 0, "window_duration", "must not be negative, got %s", c.WindowDuration)
	check(c.MinWindowEvents >= -1, "min_window_events", "must not be below -1, got %d", c.MinWindowEvents)
	check(c.FlushInterval >= 0 && c.FlushInterval <= c.WindowDuration, "flush_interval", "must be in 0..window_duration (%s), got %s", c.WindowDuration, c.FlushInterval)
	check(c.FlushEvents >= 1, "flush_events", "must be at least 1, got %d", c.FlushEvents)
	check(c.PSIThreshold >= 0, "psi_threshold", "must not be negative, got %v", c.PSIThreshold)
	check(c.PValue > 0 && c.PValue < 1, "p_value", "must be in (0, 1), got %v", c.PValue)
	check(c.RetrainM >= 1, "retrain_m", "must be at least 1, got %d", c.RetrainM)
	check(c.RetrainK >= 1 && c.RetrainK <= c.RetrainM, "retrain_k", "must be in 1..retrain_m (%d), got %d", c.RetrainM, c.RetrainK)
	check(c.Cooldown >= 0, "cooldown", "must not be negative, got %s", c.Cooldown)
	check(c.MaxRequestsPerHour >= -1, "max_requests_per_hour", "must be positive, or -1 for no cap, got %d", c.MaxRequestsPerHour)
	check(c.RedisTimeout >= 0, "redis_timeout", "must not be negative, got %s", c.RedisTimeout)
	check(c.CloseLease >= 0, "close_lease", "must not be negative, got %s", c.CloseLease)
	check(c.WindowTTL >= 0 && c.WindowTTL >= c.WindowDuration, "window_ttl", "must be at least window_duration (%s), got %s", c.WindowDuration, c.WindowTTL)
	return errors.Join(errs...)
}
