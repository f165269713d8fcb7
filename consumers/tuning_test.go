package consumers

import (
	"strings"
	"testing"
	"time"
)

func TestTuningAppliesAndDerivesTheDrainTimeout(t *testing.T) {
	var rc ReaderConfig
	Tuning{SessionTimeout: 9 * time.Second, DrainTimeout: 2 * time.Second}.Apply(&rc)
	rc.SetDefaults()
	if rc.SessionTimeout != 9*time.Second || rc.DrainTimeout != 2*time.Second || rc.MaxWait != 250*time.Millisecond {
		t.Errorf("applied: session %s, drain %s, max wait %s; want 9s, 2s, 250ms", rc.SessionTimeout, rc.DrainTimeout, rc.MaxWait)
	}
	for _, c := range []struct {
		in   Tuning
		want time.Duration
	}{
		{Tuning{}, 10 * time.Second},                                 // a third of 30s, at most 10s
		{Tuning{SessionTimeout: 9 * time.Second}, 3 * time.Second},   // a third of 9s
		{Tuning{DrainTimeout: 5 * time.Second}, 5 * time.Second},     // set
		{DefaultTuning(), 10 * time.Second},                          // sluice.yaml's defaults
		{Tuning{SessionTimeout: 45 * time.Second}, 10 * time.Second}, // capped
	} {
		if got := c.in.WithDefaults().DrainTimeout; got != c.want {
			t.Errorf("%+v: drain timeout %s, want %s", c.in, got, c.want)
		}
	}
}

func TestTuningValidateNamesTheKey(t *testing.T) {
	for _, c := range []struct {
		in   Tuning
		want string
	}{
		{Tuning{DrainTimeout: -time.Second}, "drain_timeout: must not be negative"},
		{Tuning{DrainTimeout: 30 * time.Second}, "drain_timeout: must be shorter than session_timeout (30s), got 30s"},
		{Tuning{SessionTimeout: 6 * time.Second, HeartbeatInterval: 6 * time.Second}, "heartbeat_interval: must be shorter than session_timeout (6s)"},
	} {
		err := c.in.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.in, err, c.want)
		}
	}
	if err := (Tuning{SessionTimeout: 9 * time.Second, DrainTimeout: 8 * time.Second}).Validate(); err != nil {
		t.Errorf("a drain timeout under the session timeout refused: %v", err)
	}
}
