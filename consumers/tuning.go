package consumers

import (
	"time"

	"github.com/sluice-ml/sluice/internal/keyerr"
)

// Tuning is the part of a ReaderConfig that sluice.yaml sets (the
// kafka.consumer section): how a member keeps its place in its group and
// how long a fetch waits. Zero fields take the defaults (DefaultTuning),
// which ReaderConfig.SetDefaults applies too.
type Tuning struct {
	// SessionTimeout: see ReaderConfig.SessionTimeout.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// HeartbeatInterval: see ReaderConfig.HeartbeatInterval.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// RebalanceTimeout: see ReaderConfig.RebalanceTimeout.
	RebalanceTimeout time.Duration `yaml:"rebalance_timeout"`
	// MaxWait: see ReaderConfig.MaxWait.
	MaxWait time.Duration `yaml:"max_wait"`
	// DrainTimeout: see ReaderConfig.DrainTimeout (unset: a third of the
	// session timeout, at most 10s).
	DrainTimeout time.Duration `yaml:"drain_timeout"`
}

// DefaultTuning is what an unset Tuning field (or ReaderConfig field of
// the same name) means: session 30s, heartbeat 3s, rebalance 30s, fetch
// max wait 250ms.
func DefaultTuning() Tuning {
	return Tuning{SessionTimeout: 30 * time.Second, HeartbeatInterval: 3 * time.Second,
		RebalanceTimeout: 30 * time.Second, MaxWait: 250 * time.Millisecond}
}

// WithDefaults returns t with its unset fields at their defaults, the
// derived drain timeout included (a third of the session timeout, at most
// 10s), as a reader would use them.
func (t Tuning) WithDefaults() Tuning {
	rc := ReaderConfig{}
	t.Apply(&rc)
	rc.SetDefaults()
	return Tuning{SessionTimeout: rc.SessionTimeout, HeartbeatInterval: rc.HeartbeatInterval,
		RebalanceTimeout: rc.RebalanceTimeout, MaxWait: rc.MaxWait, DrainTimeout: rc.DrainTimeout}
}

// Apply sets the fields of rc that t sets (its non-zero ones).
func (t Tuning) Apply(rc *ReaderConfig) {
	setIf := func(dst *time.Duration, v time.Duration) {
		if v != 0 {
			*dst = v
		}
	}
	setIf(&rc.SessionTimeout, t.SessionTimeout)
	setIf(&rc.HeartbeatInterval, t.HeartbeatInterval)
	setIf(&rc.RebalanceTimeout, t.RebalanceTimeout)
	setIf(&rc.MaxWait, t.MaxWait)
	setIf(&rc.DrainTimeout, t.DrainTimeout)
}

// Validate reports every field that cannot work, by its YAML key (zero
// fields are defaults); sluice.yaml puts kafka.consumer in front.
func (t Tuning) Validate() error {
	var l keyerr.List
	for _, f := range []struct {
		key string
		v   time.Duration
	}{{"session_timeout", t.SessionTimeout}, {"heartbeat_interval", t.HeartbeatInterval},
		{"rebalance_timeout", t.RebalanceTimeout}, {"max_wait", t.MaxWait}, {"drain_timeout", t.DrainTimeout}} {
		l.Check(f.v >= 0, f.key, "must not be negative, got %s", f.v)
	}
	d := DefaultTuning()
	session, heartbeat := t.SessionTimeout, t.HeartbeatInterval
	if session == 0 {
		session = d.SessionTimeout
	}
	if heartbeat == 0 {
		heartbeat = d.HeartbeatInterval
	}
	l.Check(heartbeat < session, "heartbeat_interval", "must be shorter than session_timeout (%s), got %s", session, heartbeat)
	l.Check(t.DrainTimeout < session, "drain_timeout", "must be shorter than session_timeout (%s), got %s", session, t.DrainTimeout)
	return l.Err()
}
