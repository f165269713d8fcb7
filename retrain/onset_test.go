package retrain

import (
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/training"
)

func TestTrainFrom(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2026, 3, 1, 12, 0, s, 0, time.UTC) }
	win := func(start int, flagged bool) drift.WindowSpan {
		return drift.WindowSpan{ID: "w", Start: at(start), End: at(start + 9), Events: 1000, Flagged: flagged}
	}
	tests := []struct {
		name string
		req  Request
		want time.Time
	}{
		{"no onset, no windows", Request{}, time.Time{}},
		{"onset alone", Request{Onset: at(30)}, at(30)},
		{"one flagged window", Request{Onset: at(10), Windows: []drift.WindowSpan{win(0, false), win(10, true)}}, at(10)},
		{"two flagged: from the end of the first", Request{Onset: at(10), Windows: []drift.WindowSpan{win(0, false), win(10, true), win(20, true)}}, at(19)},
		{"flagged, stationary, flagged", Request{Onset: at(0), Windows: []drift.WindowSpan{win(0, true), win(10, false), win(20, true)}}, at(9)},
		{"windows without an onset", Request{Windows: []drift.WindowSpan{win(0, false), win(10, true)}}, at(10)},
	}
	for _, tt := range tests {
		if got := TrainFrom(tt.req); !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A request with an onset trains, holds out and profiles only the events
// scored since where TrainFrom says, however much older labelled traffic
// is buffered; the new version's profile describes the drifted traffic.
func TestRetrainSinceOnset(t *testing.T) {
	e := newRTEnv(t)
	e.registerProduction(t)
	ctx := t.Context()
	start := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	pre, preLabels := e.trafficAt(t, 3, 6000, 0, start)
	onset := start.Add(6 * time.Second)
	post, postLabels := e.trafficAt(t, 4, 5000, 3, onset)
	settled := onset.Add(time.Second) // the end of the first drifted window

	for _, tt := range []struct {
		name   string
		policy Policy
	}{{"auto", PolicyAuto}, {"manual", PolicyManual}} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.retrainer(t, Config{Policy: tt.policy, MinRows: 3000, MaxLabelWait: time.Second})
			r.ring.add(labelledRecords(pre, preLabels)...)
			r.ring.add(labelledRecords(post, postLabels)...)
			req := Request{EventID: "onset-" + tt.name, Model: training.DemoModelName, Version: "1", Kind: drift.KindDrift, Onset: onset,
				Windows: []drift.WindowSpan{
					{ID: "a", Start: onset.Add(-time.Second), End: onset, Flagged: false},
					{ID: "b", Start: onset, End: settled, Flagged: true},
					{ID: "c", Start: settled, End: settled.Add(time.Second), Flagged: true},
				}}
			out, err := r.Retrain(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if out.Version == "" || !out.From.Equal(settled) || out.Labelled != 4000 {
				t.Fatalf("outcome %+v: want a version trained from %v on 4000 events", out, settled)
			}
			v, err := e.reg.Version(ctx, training.DemoModelName, out.Version)
			if err != nil {
				t.Fatal(err)
			}
			m := v.Metrics
			t.Logf("%s: version %s (%s) %v", tt.name, v.Version, v.Stage, m)
			if m["train_rows"]+m["holdout_rows"] != 4000 || m["holdout_rows"] != 800 || m["profile_rows"] != 4000 ||
				m["from_unix_ms"] != float64(settled.UnixMilli()) {
				t.Errorf("metrics %v: want 3200 + 800 post-onset rows", m)
			}
			if m["auc"] < m["production_auc"] || m["auc"] < m["retrained_auc"] {
				t.Errorf("the version's holdout AUC %v is not the better of retrained %v and production %v", m["auc"], m["retrained_auc"], m["production_auc"])
			}
			p, err := drift.ParseProfile(v.Profile)
			if err != nil || p.Rows != 4000 {
				t.Fatalf("profile: %v, %d rows", err, p.Rows)
			}
			for _, f := range p.Numeric {
				if f.Name == "ip_risk_score" && f.Mean < 0.35 {
					t.Errorf("the profile's ip_risk_score mean %.3f is not the drifted traffic's", f.Mean)
				}
			}
			wantStage := registry.StageCandidate
			if tt.policy == PolicyAuto {
				wantStage = registry.StageProduction
			}
			if v.Stage != wantStage {
				t.Errorf("stage %s, want %s", v.Stage, wantStage)
			}
			reg := e.events.Of(registry.EventRegistered)
			if last := reg[len(reg)-1]; last.Request != req.EventID || last.Evidence["profile_rows"] != 4000 {
				t.Errorf("registered event %+v", last)
			}
		})
	}
}

// Labels arrive late: a request waits up to max_label_wait for min_rows
// labelled events since its onset, and trains once they are there.
func TestRetrainWaitsForLabels(t *testing.T) {
	e := newRTEnv(t)
	e.registerProduction(t)
	onset := time.Now().Add(-10 * time.Second).Truncate(time.Millisecond)
	post, labels := e.trafficAt(t, 5, 3000, 1.5, onset)
	r := e.retrainer(t, Config{Policy: PolicyAuto, MinRows: 2500, MaxLabelWait: 30 * time.Second})
	r.ring.add(labelledRecords(post[:1000], labels[:1000])...)
	type result struct {
		out *Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := r.Retrain(t.Context(), Request{EventID: "late", Model: training.DemoModelName, Version: "1", Onset: onset})
		done <- result{out, err}
	}()
	select {
	case res := <-done:
		t.Fatalf("the request did not wait for labels: %+v, %v", res.out, res.err)
	case <-time.After(time.Second):
	}
	r.ring.add(labelledRecords(post[1000:], labels[1000:])...)
	res := <-done
	if res.err != nil || res.out.Result != ResultPromoted || res.out.Labelled != 3000 {
		t.Fatalf("%+v, %v", res.out, res.err)
	}
}

// Too few labelled events since the onset within max_label_wait: no
// version, and a skipped model event that says why.
func TestRetrainInsufficientSinceOnset(t *testing.T) {
	e := newRTEnv(t)
	e.registerProduction(t)
	start := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	pre, preLabels := e.trafficAt(t, 6, 5000, 0, start)
	onset := start.Add(5 * time.Second)
	post, postLabels := e.trafficAt(t, 7, 1200, 3, onset)
	r := e.retrainer(t, Config{Policy: PolicyAuto, MinRows: 2000, MaxLabelWait: 500 * time.Millisecond})
	r.ring.add(labelledRecords(pre, preLabels)...)
	r.ring.add(labelledRecords(post, postLabels)...)
	began := time.Now()
	out, err := r.Retrain(t.Context(), Request{EventID: "few", Model: training.DemoModelName, Version: "1", Onset: onset})
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(began); waited < 500*time.Millisecond {
		t.Errorf("gave up after %v, max_label_wait is 500ms", waited)
	}
	if out.Result != ResultSkipped || out.Version != "" || !strings.HasPrefix(out.Reason, InsufficientSinceOnset) ||
		!strings.Contains(out.Reason, "1200 labelled events scored since") {
		t.Fatalf("outcome %+v", out)
	}
	if st := state(t, e.reg); st.Latest != "1" {
		t.Fatalf("version %s registered", st.Latest)
	}
	skipped := e.events.Of(registry.EventSkipped)
	if len(skipped) != 1 {
		t.Fatalf("%d skipped events", len(skipped))
	}
	ev := skipped[0]
	if ev.Request != "few" || ev.Version != "1" || ev.Stage != registry.StageProduction || ev.Reason != out.Reason ||
		ev.Evidence["labelled"] != 1200 || ev.Evidence["min_rows"] != 2000 || ev.Evidence["from_unix_ms"] != float64(onset.UnixMilli()) {
		t.Fatalf("skipped event %+v", ev)
	}
}
