package retrain

import (
	"bytes"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/training"
)

// Export writes, for a request, the labelled events scored since its
// onset that workers kept, each with its label and the event as it was
// sent, and nothing else: not the events before the onset, not the labels
// whose events were not kept; a later label for an event wins.
func TestExport(t *testing.T) {
	e := newRTEnv(t)
	ctx := t.Context()
	start := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	pre, preLabels := e.trafficAt(t, 8, 300, 0, start)
	onset := start.Add(time.Second)
	post, postLabels := e.trafficAt(t, 9, 500, 3, onset)
	e.keep(t, pre)
	e.keep(t, post[:450]) // the last 50 were never kept
	postLabels[0].Class = 1 - postLabels[0].Class
	e.publishLabels(t, append(append(preLabels, postLabels...), quality.Label{EventID: post[0].EventID, Class: 1 - postLabels[0].Class, Time: postLabels[0].Time}))

	req := &drift.RetrainRequest{EventID: "export-1", Model: training.DemoModelName, Version: "1", Reason: "test", Kind: drift.KindDrift,
		Onset: onset, RequestedAt: time.Now()}
	other := &drift.RetrainRequest{EventID: "export-0", Model: training.DemoModelName, Version: "1", Reason: "another", RequestedAt: time.Now()}
	for _, q := range []*drift.RetrainRequest{other, req} {
		v, err := e.reqEnc.Append(nil, q.Native())
		if err != nil {
			t.Fatal(err)
		}
		e.publish(t, testRequests, kafkaMessage(training.DemoModelName, v))
	}

	var buf bytes.Buffer
	res, err := Export(ctx, ExportConfig{Brokers: []string{e.kafka.Addr}, Request: "export-1", RequestsTopic: testRequests, LabelsTopic: testLabels},
		ExportDeps{Schemas: e.schemas, Features: e.features}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v (%d bytes)", res, buf.Len())
	if res.Request.Reason != "test" || !res.From.Equal(onset) || res.Rows != 450 || res.Before != 300 || res.Unkept != 50 ||
		res.Labels != 801 || res.Invalid != 0 || res.OtherSchema != 0 {
		t.Fatalf("result %+v", res)
	}
	r, err := goavro.NewOCFReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for i, ev := range post[:450] {
		want[ev.EventID] = i
	}
	g := demo.NewGenerator(9, demo.WithDrift(demo.Drift{Features: []string{"ip_risk_score", "merchant_risk"}, Shift: 3}))
	sent := make([]map[string]any, 450)
	for i := range sent {
		sent[i], _ = g.NextLabelled()
	}
	n := 0
	var last time.Time
	for r.Scan() {
		v, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		row := v.(map[string]any)
		id := row["event_id"].(string)
		i, ok := want[id]
		if !ok {
			t.Fatalf("exported event %s was not sent after the onset and kept", id)
		}
		delete(want, id)
		label := row["label"].(map[string]any)["int"].(int32)
		wantLabel := postLabels[i].Class
		if i == 0 {
			wantLabel = 1 - postLabels[0].Class // the later label
		}
		at := row["event_time"].(time.Time)
		ev := row["event"].(map[string]any)
		if int(label) != wantLabel || !at.Equal(onset.Add(time.Duration(i)*time.Millisecond)) || at.Before(last) ||
			ev["event_id"] != id || ev["ip_risk_score"] != sent[i]["ip_risk_score"] || ev["amount"] != sent[i]["amount"] {
			t.Fatalf("row %v: want label %d, event time %v, the event as sent %v", row, wantLabel, onset.Add(time.Duration(i)*time.Millisecond), sent[i])
		}
		last = at
		n++
	}
	if n != 450 || len(want) != 0 {
		t.Fatalf("%d rows, %d kept post-onset events missing", n, len(want))
	}

	if _, err := Export(ctx, ExportConfig{Brokers: []string{e.kafka.Addr}, Request: "nope", RequestsTopic: testRequests, LabelsTopic: testLabels},
		ExportDeps{Schemas: e.schemas, Features: e.features}, &bytes.Buffer{}); err == nil {
		t.Fatal("exported for a request that was never sent")
	}
}
