package quality_test

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/registry"
)

// Live quality from labels: predictions of the first generating rule,
// labelled by it and then by the second rule (concept drift, no feature
// moves): each window of 500 labelled events is reported with its AUC,
// the windows after the change are degraded against the version's holdout
// AUC, one quality RetrainRequested goes out with the onset at the first
// degraded window, and the cooldown holds back the rest. Some labels come
// before their predictions.
func TestQualityWindowsAndRetrain(t *testing.T) {
	e := newQEnv(t)
	e.register(t, "fraud", map[string]float64{"auc": 0.90}, registry.StageProduction, 0)
	_, reg := e.service(t, quality.Config{WindowEvents: 500, MinWindowEvents: 100, Margin: 0.1, LabelWait: 30 * time.Second, Decision: decision()})

	const n, change = 4000, 2000
	g := demo.NewGenerator(11, demo.WithDrift(demo.Drift{After: change, Concept: true}))
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * 10 * time.Millisecond) }
	preds := make([]pred, n)
	labels := make([]quality.Label, n)
	for i := range n {
		rec, fraud := g.NextLabelled()
		id := rec[demo.FieldEventID].(string)
		preds[i] = pred{id: id, model: "fraud", version: "1", p: demo.FraudProbability(rec), at: at(i)}
		labels[i] = quality.Label{EventID: id, Time: at(i).Add(time.Minute)}
		if fraud {
			labels[i].Class = 1
		}
	}
	e.labels(t, labels[:200]) // before their predictions: they wait
	time.Sleep(300 * time.Millisecond)
	e.predictions(t, testworker.Predictions, preds)
	e.labels(t, labels[200:])

	reports := e.Read(reportsTopic, n/500, 60*time.Second, 300*time.Millisecond)
	if len(reports) != n/500 {
		t.Fatalf("%d reports, want %d", len(reports), n/500)
	}
	for i, r := range reports {
		rec := r.Rec
		auc, _ := rec["auc"].(float64)
		t.Logf("window %v: %v labelled, AUC %.3f, log-loss %.3f, calibration %.3f, degraded %v", rec["window_seq"], rec["labelled"], auc, rec["log_loss"], rec["calibration_error"], rec["degraded"])
		after := i >= change/500
		if rec["model_version"] != "1" || rec["stage"] != "production" || rec["labelled"] != int64(500) || rec["holdout_auc"] != 0.90 {
			t.Errorf("report %d: %v", i, rec)
		}
		if after != rec["degraded"].(bool) || (after && auc > 0.65) || (!after && auc < 0.82) {
			t.Errorf("window %d (after the change: %v): AUC %.3f, degraded %v", i, after, auc, rec["degraded"])
		}
		if !rec["window_start"].(time.Time).Equal(at(i*500)) || !rec["window_end"].(time.Time).Equal(at(i*500+499)) {
			t.Errorf("window %d spans %v..%v, want the event times of events %d..%d", i, rec["window_start"], rec["window_end"], i*500, i*500+499)
		}
	}
	reqs := e.Read(testworker.Retrain, 1, 10*time.Second, time.Second)
	if len(reqs) != 1 {
		t.Fatalf("%d retrain requests, want 1 (the cooldown holds back the rest)", len(reqs))
	}
	req := reqs[0].Rec
	q, _ := req["quality"].(map[string]any)
	t.Logf("request: %v", req["reason"])
	if req["kind"] != drift.KindQuality || req["model_version"] != "1" || !req["onset"].(time.Time).Equal(at(change)) ||
		q == nil || q["metric"] != "auc" || q["reference"] != 0.90 || q["live"].(float64) > 0.65 || len(req["windows"].([]any)) != 3 {
		t.Fatalf("request %v", req)
	}
	labelled, err := testutil.GatherAndCount(reg, "sluice_quality_labelled_total")
	if err != nil || labelled != 1 {
		t.Fatalf("labelled series %d, %v", labelled, err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.Counter != nil:
				values[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				values[key] = m.Gauge.GetValue()
			}
		}
	}
	lastAUC, _ := reports[len(reports)-1].Rec["auc"].(float64)
	for key, want := range map[string]float64{
		"sluice_quality_labelled_total model=fraud stage=production version=1":               n,
		"sluice_quality_labels_total result=joined":                                          n,
		"sluice_quality_auc model=fraud stage=production version=1":                          lastAUC,
		"sluice_quality_windows_total degraded=true model=fraud stage=production version=1":  4,
		"sluice_quality_retrain_requests_total model=fraud result=sent":                      1,
		"sluice_quality_windows_total degraded=false model=fraud stage=production version=1": 4,
	} {
		if got := values[key]; math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	if values["sluice_quality_retrain_requests_total model=fraud result=cooldown"] < 1 {
		t.Errorf("no request was held back by the cooldown: %v", values)
	}

	// The workers' status pages read the latest window from Redis.
	sm, err := quality.NewStatusGatherer(e.Redis, "fraud").Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range sm {
		if mf.GetName() == "sluice_quality_auc" {
			for _, m := range mf.GetMetric() {
				found = m.GetGauge().GetValue() == lastAUC
			}
		}
	}
	if !found {
		t.Fatalf("the status gatherer does not show the last window's AUC %v: %v", lastAUC, sm)
	}
}
