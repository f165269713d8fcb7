package retrain

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/training"
)

// TestRetrainEndToEnd runs the retrainer against Kafka, Redis, the schema
// registry and the model registry: a request with no labels is skipped;
// drifted labelled traffic and a RetrainRequested lead to version 2,
// better than production on the drifted holdout, promoted by policy auto;
// the same request delivered again trains nothing.
func TestRetrainEndToEnd(t *testing.T) {
	e := newRTEnv(t)
	e.registerProduction(t)
	r := e.retrainer(t, Config{Policy: PolicyAuto, MinRows: 2000, LabelWait: time.Minute})
	run(t, r)

	// No labels yet: skipped, with the reason, and nothing registered.
	e.requestRetrain(t, "req-early")
	testkit.WaitFor(t, 30*time.Second, "the early request to be skipped", func() bool { return runs(r, training.DemoModelName, ResultSkipped) == 1 })
	out, err := r.Retrain(t.Context(), Request{EventID: "req-direct", Model: training.DemoModelName})
	if err != nil || out.Result != ResultSkipped || !strings.Contains(out.Reason, "0 labelled records buffered, min_rows is 2000") {
		t.Fatalf("with no labels: %+v, %v", out, err)
	}
	if st := state(t, e.reg); st.Latest != "1" || st.Production != "1" {
		t.Fatalf("after skipped requests: %+v", st)
	}

	// Drifted traffic: workers kept the features of most events before
	// their labels came; the last 500 are kept after their labels, so those
	// labels wait and are joined on a retry.
	const n = 8000
	events, labels := e.driftedTraffic(t, 42, n, 2)
	e.keep(t, events[:n-500])
	e.publishLabels(t, labels)
	time.Sleep(300 * time.Millisecond)
	e.keep(t, events[n-500:])
	testkit.WaitFor(t, 60*time.Second, "every label to be joined", func() bool { return r.Buffered() == n })

	e.requestRetrain(t, "req-1")
	testkit.WaitFor(t, 120*time.Second, "version 2 in production", func() bool {
		st, err := e.reg.State(t.Context(), training.DemoModelName)
		return err == nil && st.Production == "2"
	})
	v2, err := e.reg.Version(t.Context(), training.DemoModelName, "2")
	if err != nil {
		t.Fatal(err)
	}
	m := v2.Metrics
	t.Logf("drifted holdout (%v rows, trained on %v): candidate AUC %.4f log-loss %.4f accuracy %.4f; production AUC %.4f log-loss %.4f accuracy %.4f",
		m["holdout_rows"], m["train_rows"], m["auc"], m["log_loss"], m["accuracy"], m["production_auc"], m["production_log_loss"], m["production_accuracy"])
	if !(m["auc"] > m["production_auc"]) || !(m["log_loss"] < m["production_log_loss"]) {
		t.Errorf("the candidate is not better than production on the drifted holdout: %v", m)
	}
	if m["train_rows"] != 6400 || m["holdout_rows"] != 1600 {
		t.Errorf("split %v + %v, want 6400 + 1600", m["train_rows"], m["holdout_rows"])
	}
	v1, _ := e.reg.Version(t.Context(), training.DemoModelName, "1")
	if !bytes.Equal(v2.Signature, v1.Signature) || v1.Stage != registry.StageArchived {
		t.Errorf("v2 signature differs from v1's, or v1 is %s", v1.Stage)
	}
	p, err := drift.ParseProfile(v2.Profile)
	// A request without an onset trains on the most recent labelled
	// events; the profile describes all of them.
	if err != nil || p.Rows != 8000 || p.Score == nil || len(p.Numeric) != 22 {
		t.Fatalf("profile: %v (%d rows, score %v, %d numeric)", err, p.Rows, p.Score != nil, len(p.Numeric))
	}
	for _, f := range p.Numeric {
		if f.Name == "ip_risk_score" && f.Mean < 0.3 {
			t.Errorf("the profile's ip_risk_score mean %v is not the drifted data's", f.Mean)
		}
	}

	// The same request again: nothing is trained.
	e.requestRetrain(t, "req-1")
	testkit.WaitFor(t, 30*time.Second, "the duplicate to be noticed", func() bool { return runs(r, training.DemoModelName, ResultDuplicate) == 1 })
	if st := state(t, e.reg); st.Latest != "2" || st.Production != "2" {
		t.Fatalf("after the duplicate: %+v", st)
	}
	if got := e.rdb.Get(t.Context(), doneKey("req-1")).Val(); got != "2" {
		t.Fatalf("done key holds %q", got)
	}
	var hist dto.Metric
	if err := r.metrics.seconds.Write(&hist); err != nil {
		t.Fatal(err)
	}
	if runs(r, training.DemoModelName, ResultPromoted) != 1 || runs(r, training.DemoModelName, ResultSkipped) != 2 ||
		hist.GetHistogram().GetSampleCount() != 1 {
		t.Fatalf("runs: promoted %v, skipped %v; %d timed", runs(r, training.DemoModelName, ResultPromoted),
			runs(r, training.DemoModelName, ResultSkipped), hist.GetHistogram().GetSampleCount())
	}
	if got := testutil.ToFloat64(r.metrics.labels.WithLabelValues(labelJoined)); got != n {
		t.Fatalf("%v labels joined, want %d", got, n)
	}
}
