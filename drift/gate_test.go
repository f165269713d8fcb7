package drift

import (
	"testing"
	"time"

	"github.com/sluice-ml/sluice/internal/testkit"
)

// The gate admits one request per version per cooldown, and at most
// max_requests_per_hour per model in any hour; a retried send of an
// admitted request is admitted again.
func TestGate(t *testing.T) {
	rdb := testkit.StartRedis(t).Client()
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := t.Context()
	now := time.Now()
	g := NewGate(rdb, Config{Cooldown: time.Hour, MaxRequestsPerHour: 3})
	g.now = func() time.Time { return now }
	admit := func(model, version, id string, want Admission) {
		t.Helper()
		got, err := g.Admit(ctx, model, version, id)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%s/%s request %s: %s, want %s", model, version, id, got, want)
		}
	}
	admit("m", "1", "a", Admitted)
	admit("m", "1", "a", Admitted)    // the same request sent again
	admit("m", "1", "b", CoolingDown) // another request of version 1
	admit("m", "2", "c", Admitted)    // version 2 has its own cooldown
	admit("m", "3", "d", Admitted)
	admit("m", "4", "e", Capped) // the fourth request of m in an hour
	admit("n", "1", "f", Admitted)
	admit("m", "2", "c", Admitted) // still a retry, even at the cap
	now = now.Add(61 * time.Minute)
	admit("m", "4", "e", Admitted) // the hour has passed
	admit("m", "1", "b", CoolingDown)

	short := NewGate(rdb, Config{Cooldown: 100 * time.Millisecond, MaxRequestsPerHour: -1})
	for i, id := range []string{"x", "y", "z", "w", "v"} {
		if i > 0 {
			time.Sleep(150 * time.Millisecond)
		}
		if got, err := short.Admit(ctx, "uncapped", "1", id); err != nil || got != Admitted {
			t.Fatalf("request %d after the cooldown: %v, %v", i, got, err)
		}
	}
}

// The k-of-m decision: due only on a flagged window when k of the last m
// are flagged; the windows come back oldest first with the onset at the
// first flagged one; series are separate and a reset forgets them.
func TestDecision(t *testing.T) {
	rdb := testkit.StartRedis(t).Client()
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := t.Context()
	cfg := Config{RetrainK: 2, RetrainM: 3}
	d := NewDecision(rdb, "m", "1", SeriesDrift, cfg)
	q := NewDecision(rdb, "m", "1", SeriesQuality, cfg)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	win := func(seq int64, flagged bool) Verdict {
		start := base.Add(time.Duration(seq) * time.Second)
		return Verdict{ID: "e-" + string(rune('0'+seq)), Seq: seq, Start: start.UnixMilli(), End: start.Add(time.Second).UnixMilli(), Events: 100 + seq, Flagged: flagged}
	}
	record := func(d *Decision, v Verdict) ([]Verdict, bool) {
		t.Helper()
		ws, due, err := d.Record(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		return ws, due
	}
	if _, due := record(d, win(1, false)); due {
		t.Fatal("due on a stationary window")
	}
	if _, due := record(d, win(2, true)); due {
		t.Fatal("due on one flagged window of three")
	}
	if _, due := record(q, win(1, true)); due {
		t.Fatal("the quality series saw the drift series' windows")
	}
	ws, due := record(d, win(3, true))
	if !due || len(ws) != 3 || ws[0].Seq != 1 || ws[2].Seq != 3 || ws[2].Events != 103 {
		t.Fatalf("due %v, windows %+v", due, ws)
	}
	if got := Onset(ws); !got.Equal(base.Add(2 * time.Second)) {
		t.Fatalf("onset %v, want the start of window 2", got)
	}
	if _, due := record(d, win(4, false)); due {
		t.Fatal("due on a stationary window")
	}
	if err := ResetDecision(ctx, rdb, "m", "1"); err != nil {
		t.Fatal(err)
	}
	if _, due := record(d, win(5, true)); due {
		t.Fatal("due after a reset with one flagged window")
	}
	if _, due := record(q, win(2, true)); due {
		t.Fatal("the quality series was not reset")
	}
}

// A window flagged for a feature the newest window did not drift in is not
// part of its episode: it neither counts towards k nor sets the onset.
func TestDecisionEpisode(t *testing.T) {
	rdb := testkit.StartRedis(t).Client()
	t.Cleanup(func() { _ = rdb.Close() })
	d := NewDecision(rdb, "m", "1", SeriesDrift, Config{RetrainK: 2, RetrainM: 3})
	win := func(seq int64, features ...string) Verdict {
		v := Verdict{ID: string(rune('a' + seq)), Seq: seq, Start: seq * 1000, End: seq*1000 + 999, Flagged: len(features) > 0}
		for _, f := range features {
			v.Features = append(v.Features, FeatureResult{Feature: f, Drifted: true})
		}
		return v
	}
	for _, w := range []Verdict{win(1), win(2, "card_age_days"), win(3, "ip_risk_score", "merchant_risk")} {
		if _, due, err := d.Record(t.Context(), w); err != nil || due {
			t.Fatalf("window %d: due %v, %v", w.Seq, due, err)
		}
	}
	ws, due, err := d.Record(t.Context(), win(4, "merchant_risk"))
	if err != nil || !due {
		t.Fatalf("due %v, %v", due, err)
	}
	if ws[0].Flagged || !ws[1].Flagged || !ws[2].Flagged || Onset(ws).UnixMilli() != 3000 {
		t.Fatalf("windows %+v, onset %v: want the episode to start at window 3", ws, Onset(ws))
	}
}
