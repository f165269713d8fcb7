package retrain

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/training"
)

// TestRetrainWithoutKafka drives Retrain directly on a filled buffer: the
// manual policy, duplicates, a request another retrainer holds, and the
// requests that are skipped without registering anything.
func TestRetrainWithoutKafka(t *testing.T) {
	e := newRTEnv(t)
	e.registerProduction(t)
	events, labels := e.driftedTraffic(t, 7, 3000, 2)
	ctx := t.Context()

	t.Run("manual policy leaves a candidate", func(t *testing.T) {
		r := e.retrainer(t, Config{Policy: PolicyManual, MinRows: 2000})
		r.ring.add(labelledRecords(events, labels)...)
		out, err := r.Retrain(ctx, Request{EventID: "manual-1", Model: training.DemoModelName})
		if err != nil {
			t.Fatal(err)
		}
		if out.Result != ResultCandidate || out.Version != "2" || out.Production != "1" || out.Reason != "policy manual" {
			t.Fatalf("outcome %+v", out)
		}
		v, err := e.reg.Version(ctx, training.DemoModelName, "2")
		if err != nil || v.Stage != registry.StageCandidate || v.Metrics["train_rows"] != 2400 || v.Metrics["production_auc"] == 0 {
			t.Fatalf("version 2: %+v, %v", v, err)
		}
		if st := state(t, e.reg); st.Production != "1" {
			t.Fatalf("production is %s", st.Production)
		}

		again, err := r.Retrain(ctx, Request{EventID: "manual-1", Model: training.DemoModelName})
		if err != nil || again.Result != ResultDuplicate || again.Version != "2" {
			t.Fatalf("again: %+v, %v", again, err)
		}
		if runs(r, training.DemoModelName, ResultCandidate) != 1 || runs(r, training.DemoModelName, ResultDuplicate) != 1 {
			t.Fatal("run metrics")
		}
	})

	t.Run("held by another retrainer", func(t *testing.T) {
		r := e.retrainer(t, Config{MinRows: 2000})
		r.ring.add(labelledRecords(events, labels)...)
		e.rdb.Set(ctx, lockKey("held"), "someone else", time.Minute)
		out, err := r.Retrain(ctx, Request{EventID: "held", Model: training.DemoModelName})
		if err != nil || out.Result != ResultDuplicate || !strings.Contains(out.Reason, "another retrainer") {
			t.Fatalf("%+v, %v", out, err)
		}
		if e.rdb.Get(ctx, lockKey("held")).Val() != "someone else" {
			t.Fatal("the other retrainer's lock was released")
		}
	})

	allLegit := make([]quality.Label, len(labels))
	for i, l := range labels {
		allLegit[i] = quality.Label{EventID: l.EventID, Class: 0, Time: l.Time}
	}
	outOfRange := make([]quality.Label, len(labels))
	for i, l := range labels {
		outOfRange[i] = quality.Label{EventID: l.EventID, Class: 2, Time: l.Time}
	}
	if _, err := e.reg.Register(ctx, "fresh", registry.RegisterRequest{ONNX: prodONNX, Signature: prodSig}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		model  string
		recs   []labelled
		reason string
	}{
		{"unknown model", "nope", labelledRecords(events, labels), "model nope is not registered"},
		{"no production version", "fresh", labelledRecords(events, labels), "model fresh has no production version"},
		{"too few labels", training.DemoModelName, labelledRecords(events[:1999], labels[:1999]), "1999 labelled records buffered, min_rows is 2000"},
		{"one class only", training.DemoModelName, labelledRecords(events, allLegit), `has no "fraud" record`},
		{"classes the model lacks", training.DemoModelName, labelledRecords(events, outOfRange), "0 of 3000 labelled records are usable"},
		{"unreadable events", training.DemoModelName, labelledRecords(make([]pipeline.KeptEvent, 3000), labels), "3000 undecodable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.retrainer(t, Config{Policy: PolicyAuto, MinRows: 2000})
			r.ring.add(tt.recs...)
			before := state(t, e.reg).Latest
			out, err := r.Retrain(ctx, Request{EventID: "skip-" + tt.name, Model: tt.model})
			if err != nil {
				t.Fatal(err)
			}
			if out.Result != ResultSkipped || !strings.Contains(out.Reason, tt.reason) || out.Version != "" {
				t.Fatalf("outcome %+v, want skipped because %q", out, tt.reason)
			}
			if after := state(t, e.reg).Latest; after != before {
				t.Fatalf("version %s registered", after)
			}
			if e.rdb.Exists(ctx, doneKey("skip-"+tt.name), lockKey("skip-"+tt.name)).Val() != 0 {
				t.Fatal("a skipped request is marked done, or its lock was left")
			}
		})
	}
}

func TestPolicyPromotes(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		policy     Policy
		cand, base float64
		want       bool
	}{
		{PolicyAuto, 0.91, 0.90, true},
		{PolicyAuto, 0.90, 0.90, true},
		{PolicyAuto, 0.89, 0.90, false},
		{PolicyAuto, nan, 0.90, false},
		{PolicyAuto, 0.90, nan, false},
		{PolicyManual, 0.99, 0.50, false},
	}
	for _, tt := range tests {
		got, why := tt.policy.promotes(evaluation{AUC: tt.cand}, evaluation{AUC: tt.base})
		if got != tt.want || why == "" {
			t.Errorf("%s %v vs %v: %v (%s), want %v", tt.policy, tt.cand, tt.base, got, why, tt.want)
		}
	}
}

func TestRing(t *testing.T) {
	r := newRing(3)
	base := time.Now()
	for i := range 5 {
		r.add(labelled{label: quality.Label{EventID: string(rune('a' + i)), Time: base.Add(time.Duration(5-i) * time.Second)}})
	}
	got := ""
	for _, rec := range r.snapshot() {
		got += rec.label.EventID
	}
	if r.len() != 3 || got != "edc" {
		t.Fatalf("held %d, snapshot %q, want the 3 most recent by label time: edc", r.len(), got)
	}
}
