package drift

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Stationary traffic through three concurrently running workers: no
// retrain request, and the share of windows flagged drifted within the
// configured significance plus a tolerance.
func TestStationaryNoFalseAlarms(t *testing.T) {
	p := testProfile(t, 100_000)
	g := newGroup(t, testConfig(), p, 3)
	const total = 200_000
	feeder := func(seed uint64) func(*Monitor) {
		return func(m *Monitor) {
			gen := newGen(seed)
			for range total / 3 {
				offerNext(m, gen)
			}
		}
	}
	g.run(feeder(11), feeder(12), feeder(13))

	reps := g.reports()
	var drifted, events int64
	seen := map[string]bool{}
	for _, r := range reps {
		if seen[r["window_id"].(string)] {
			t.Errorf("window %s reported twice", r["window_id"])
		}
		seen[r["window_id"].(string)] = true
		if r["drifted"].(bool) {
			drifted++
			t.Logf("false alarm in window %d: %v", seqOf(r), driftedFeatures(r))
		}
		if r["incomplete"].(bool) {
			t.Errorf("window %d incomplete", seqOf(r))
		}
		events += r["events"].(int64)
	}
	frac := float64(drifted) / float64(len(reps))
	t.Logf("stationary: %d windows, %d drifted (fraction %.3f, significance %.2f)", len(reps), drifted, frac, g.cfg.PValue)
	if len(reps) < 20 {
		t.Fatalf("only %d windows closed", len(reps))
	}
	if frac > g.cfg.PValue+0.03 {
		t.Errorf("false-alarm fraction %.3f > %.2f + 0.03", frac, g.cfg.PValue)
	}
	if n := len(g.retrains()); n != 0 {
		t.Errorf("%d retrain requests on stationary data", n)
	}
	// Every event is in exactly one window: closed ones or the open one.
	if got := events + g.openEvents(); got != total/3*3 {
		t.Errorf("windows hold %d events, fed %d", got, total/3*3)
	}
	if v := testutil.ToFloat64(g.met.windows.WithLabelValues("fraud", "false")); v != float64(int64(len(reps))-drifted) {
		t.Errorf("windows_closed_total{drifted=false} = %v", v)
	}
}

// A 0.5-standard-deviation shift of two numeric features, starting in the
// middle of a window: detected within two windows, and the retrain
// request names exactly those features.
func TestNumericShiftDetected(t *testing.T) {
	p := testProfile(t, 100_000)
	g := newGroup(t, testConfig(), p, 3)
	gen := newGen(21)
	const before = 22_500 // window 5 holds events 20,000..24,999
	if errs := g.feed(gen, before); len(errs) > 0 {
		t.Fatal(errs)
	}
	gen.shift = map[string]float64{"x1": 0.5, "x4": 0.5}
	if errs := g.feed(gen, 15_000); len(errs) > 0 {
		t.Fatal(errs)
	}
	reps := g.reports()
	shiftWindow := int64(before/g.cfg.WindowEvents + 1)
	first := int64(-1)
	for _, r := range reps {
		seq := seqOf(r)
		if r["drifted"].(bool) && first < 0 && seq >= shiftWindow {
			first = seq
		}
		if seq < shiftWindow && r["drifted"].(bool) {
			t.Errorf("window %d drifted before the shift: %v", seq, driftedFeatures(r))
		}
		if seq >= shiftWindow {
			t.Logf("window %d: drifted %v %v; x1 D=%.3f p=%.2g psi=%.3f", seq, r["drifted"], driftedFeatures(r),
				featureOf(r, "x1")["statistic"], featureOf(r, "x1")["p_value"], featureOf(r, "x1")["psi"])
		}
	}
	if first < 0 || first > shiftWindow+1 {
		t.Fatalf("shift in window %d first detected in window %d", shiftWindow, first)
	}
	t.Logf("shift starts mid-window %d; first detected in window %d (delay %d windows)", shiftWindow, first, first-shiftWindow+1)
	rts := g.retrains()
	if len(rts) != 1 {
		t.Fatalf("%d retrain requests, want 1", len(rts))
	}
	rt := rts[0]
	if got := driftedFeatures(rt); !slices.Equal(got, []string{"x1", "x4"}) {
		t.Errorf("retrain features %v, want [x1 x4]", got)
	}
	ids := rt["window_ids"].([]any)
	t.Logf("retrain request: %s; windows %v", rt["reason"], ids)
	if len(ids) < 2 || rt["event_id"] == "" || rt["_key"] != "fraud" || rt["model_version"] != "3" {
		t.Errorf("retrain request %v", rt)
	}
	var last int64
	for _, r := range reps {
		if r["window_id"] == ids[len(ids)-1] {
			last = seqOf(r)
		}
	}
	if last > shiftWindow+1 {
		t.Errorf("retrain triggered by window %d, shift began in %d", last, shiftWindow)
	}
	if v := testutil.ToFloat64(g.met.retrains.WithLabelValues("fraud")); v != 1 {
		t.Errorf("retrain_events_total = %v", v)
	}
	// The request carries the onset, the start of the first drifted window,
	// and the last retrain_m windows with their bounds.
	byID := map[any]map[string]any{}
	for _, r := range reps {
		byID[r["window_id"]] = r
	}
	firstDrifted := byID[ids[0]]
	onset, _ := rt["onset"].(map[string]any)["long.timestamp-millis"].(time.Time)
	if rt["kind"] != KindDrift || !onset.Equal(firstDrifted["window_start"].(time.Time)) {
		t.Errorf("kind %v onset %v, want drift and the start of window %v (%v)", rt["kind"], rt["onset"], ids[0], firstDrifted["window_start"])
	}
	wins := rt["windows"].([]any)
	if len(wins) != g.cfg.RetrainM {
		t.Fatalf("%d windows in the request, want retrain_m %d", len(wins), g.cfg.RetrainM)
	}
	flagged := 0
	for i, w := range wins {
		w := w.(map[string]any)
		r := byID[w["window_id"]]
		if r == nil || !w["start"].(time.Time).Equal(r["window_start"].(time.Time)) || !w["end"].(time.Time).Equal(r["window_end"].(time.Time)) ||
			w["events"] != r["events"] || w["flagged"] != r["drifted"] {
			t.Errorf("request window %d %v does not match its report %v", i, w, r)
		}
		if i > 0 && seqOf(r) <= seqOf(byID[wins[i-1].(map[string]any)["window_id"]]) {
			t.Errorf("request windows are not oldest first")
		}
		if w["flagged"] == true {
			flagged++
		}
	}
	if flagged != len(ids) {
		t.Errorf("%d flagged windows, %d window ids", flagged, len(ids))
	}
	if v := testutil.ToFloat64(g.met.score.WithLabelValues("fraud", "x1", "ks")); v < 0.1 {
		t.Errorf("drift score of x1 = %v", v)
	}
}

// A change of the channel mix too small for PSI is caught by chi-squared.
func TestCategoricalMixDetected(t *testing.T) {
	p := testProfile(t, 100_000)
	g := newGroup(t, testConfig(), p, 3)
	gen := newGen(31)
	if errs := g.feed(gen, 10_000); len(errs) > 0 {
		t.Fatal(errs)
	}
	gen.mix = []float64{0.35, 0.3, 0.2, 0.15}
	if errs := g.feed(gen, 5_000); len(errs) > 0 {
		t.Fatal(errs)
	}
	reps := g.reports()
	if len(reps) != 3 {
		t.Fatalf("%d reports, want 3", len(reps))
	}
	for _, r := range reps[:2] {
		if r["drifted"].(bool) {
			t.Errorf("window %d drifted before the change: %v", seqOf(r), driftedFeatures(r))
		}
	}
	ch := featureOf(reps[2], "channel")
	t.Logf("channel after the change: chi2=%.1f p=%.2g threshold=%.2g psi=%.3f", ch["statistic"], ch["p_value"], ch["threshold"], ch["psi"])
	if ch["test"] != "chi2" || !ch["drifted"].(bool) || ch["p_value"].(float64) >= ch["threshold"].(float64) {
		t.Errorf("channel not detected by chi2: %v", ch)
	}
	if ch["psi"].(float64) > ch["psi_threshold"].(float64) {
		t.Errorf("mix change meant to be below the PSI threshold: psi %v", ch["psi"])
	}
	if got := driftedFeatures(reps[2]); !slices.Equal(got, []string{"channel"}) {
		t.Errorf("drifted features %v, want [channel]", got)
	}
	if th := ch["threshold"].(float64); math.Abs(th-0.01/10) > 1e-15 {
		t.Errorf("threshold %v, want 0.01/10 (9 features + predictions)", th)
	}
}

// Three workers running concurrently through one long drift episode send
// exactly one retrain request.
func TestOneRetrainPerEpisode(t *testing.T) {
	p := testProfile(t, 100_000)
	g := newGroup(t, testConfig(), p, 3)
	feeder := func(seed uint64) func(*Monitor) {
		return func(m *Monitor) {
			gen := newGen(seed)
			for range 10_000 {
				offerNext(m, gen)
			}
			gen.shift = map[string]float64{"x0": 1}
			for range 20_000 {
				offerNext(m, gen)
			}
		}
	}
	g.run(feeder(41), feeder(42), feeder(43))
	var drifted int
	seen := map[any]bool{}
	for _, r := range g.reports() {
		if seen[r["window_id"]] {
			t.Errorf("window %v reported twice", r["window_id"])
		}
		seen[r["window_id"]] = true
		if r["drifted"].(bool) {
			drifted++
		}
	}
	if got := sumEvents(g.reports()) + g.openEvents(); got != 90_000 {
		t.Errorf("windows hold %d events, fed 90000", got)
	}
	rts := g.retrains()
	t.Logf("%d windows, %d drifted, %d retrain requests", len(g.reports()), drifted, len(rts))
	if drifted < 5 {
		t.Errorf("only %d drifted windows", drifted)
	}
	if len(rts) != 1 {
		t.Fatalf("%d retrain requests, want 1", len(rts))
	}
	if got := driftedFeatures(rts[0]); !slices.Equal(got, []string{"x0"}) {
		t.Errorf("retrain features %v", got)
	}
	if rts[0]["prediction"] == nil {
		t.Errorf("score depends on x0 but the prediction did not drift")
	}
}
