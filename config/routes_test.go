package config

import (
	"strings"
	"testing"
	"time"
)

const twoRoutes = `
pipeline:
  max_in_flight: 4096
  batch:
    max_batch_size: 128
    max_delay: 3ms
model:
  name: fraud
  dir: /models/fraud
routes:
  - name: fraud
    input_topic: payments
    output_topic: fraud-scores
  - name: churn
    input_topic: payments
    output_topic: churn-scores
    model: churn
    optional: true
    max_in_flight: 1024
    batch:
      max_batch_size: 32
    fields:
      entity_id: customer_id
    drift:
      enabled: false
      window_events: 900
`

// A route inherits the top-level pipeline, model and drift keys and
// replaces those it sets; topics, group and shadow topic are its own.
func TestRoutesResolveOverTheTopLevelKeys(t *testing.T) {
	c, err := Parse([]byte(twoRoutes))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	rs := c.Effective()
	if len(rs) != 2 {
		t.Fatalf("%d routes, want 2", len(rs))
	}
	f, ch := rs[0], rs[1]
	if f.Implicit || f.Name != "fraud" || f.Optional {
		t.Errorf("fraud route = %+v", f)
	}
	if p := f.Pipeline; p.InputTopic != "payments" || p.OutputTopic != "fraud-scores" || p.DLQTopic != "payments.dlq" ||
		p.ShadowTopic != "fraud-scores.shadow" || p.Group != "sluice-fraud" || p.MaxInFlight != 4096 ||
		p.Batch.MaxBatchSize != 128 || p.Batch.MaxDelay != 3*time.Millisecond || p.Fields.EntityID != "entity_id" {
		t.Errorf("fraud pipeline = %+v", p)
	}
	if f.Model != (Model{Name: "fraud", Version: "1", Dir: "/models/fraud"}) || !f.Drift.Enabled {
		t.Errorf("fraud model %+v, drift enabled %v", f.Model, f.Drift.Enabled)
	}
	if p := ch.Pipeline; p.Group != "sluice-churn" || p.MaxInFlight != 1024 || p.Batch.MaxBatchSize != 32 ||
		p.Batch.MaxDelay != 3*time.Millisecond || p.Fields.EntityID != "customer_id" || p.Fields.EventID != "event_id" {
		t.Errorf("churn pipeline = %+v", p)
	}
	if ch.Model != (Model{Name: "churn", Version: "1"}) || !ch.Optional {
		t.Errorf("churn model %+v (a model of its own takes no model.dir), optional %v", ch.Model, ch.Optional)
	}
	if ch.Drift.Enabled || ch.Drift.WindowEvents != 900 || ch.Drift.PValue != c.Drift.PValue {
		t.Errorf("churn drift = %+v", ch.Drift)
	}
	keys := map[string]string{}
	for _, kv := range c.RouteKeys() {
		keys[kv[0]] = kv[1]
	}
	for k, want := range map[string]string{
		"routes[0].group": "sluice-fraud", "routes[1].batch.max_batch_size": "32", "routes[1].drift.enabled": "false",
		"routes[1].drift.window_events": "900", "routes[0].model_dir": "/models/fraud", "routes[1].optional": "true",
	} {
		if keys[k] != want {
			t.Errorf("RouteKeys %s = %q, want %q", k, keys[k], want)
		}
	}
}

// A file without routes is one route built from today's keys, and the
// environment variables and flags of those keys still reach it.
func TestNoRoutesIsOneRouteFromTheTopLevelKeys(t *testing.T) {
	c, err := Parse([]byte("pipeline:\n  input_topic: clicks\n  group: g1\nmodel:\n  name: ctr\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ApplyEnv([]string{"SLUICE_PIPELINE_OUTPUT_TOPIC=ctr-out", "SLUICE_MODEL_DIR=/m"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("pipeline.batch.max_batch_size", "16"); err != nil {
		t.Fatal(err)
	}
	rs := c.Effective()
	if len(rs) != 1 || !rs[0].Implicit || rs[0].Name != DefaultRouteName {
		t.Fatalf("routes = %+v", rs)
	}
	p := rs[0].Pipeline
	if p.InputTopic != "clicks" || p.OutputTopic != "ctr-out" || p.DLQTopic != "clicks.dlq" || p.Group != "g1" ||
		p.ShadowTopic != "predictions.shadow" || p.Batch.MaxBatchSize != 16 || rs[0].Model.Dir != "/m" || rs[0].Model.Name != "ctr" {
		t.Errorf("route = %+v", rs[0])
	}
	for _, kv := range c.Keys() {
		if strings.HasPrefix(kv[0], "routes") {
			t.Errorf("Keys lists %s: routes are not single keys", kv[0])
		}
	}
}

// Bad routes are refused, each error naming routes[i].key.
func TestRouteErrorsNameTheKey(t *testing.T) {
	base := "model:\n  dir: /m\nroutes:\n"
	tests := []struct{ name, routes, want string }{
		{"no input topic", "  - {name: a, output_topic: o}\n", "routes[0].input_topic: must not be empty"},
		{"no output topic", "  - {name: a, input_topic: i}\n", "routes[0].output_topic: must not be empty"},
		{"no name", "  - {input_topic: i, output_topic: o}\n", "routes[0].name: \"\" is not a route name"},
		{"bad name", "  - {name: Fraud Scores, input_topic: i, output_topic: o}\n", "routes[0].name"},
		{"duplicate name", "  - {name: a, input_topic: i, output_topic: o}\n  - {name: a, input_topic: j, output_topic: p}\n", "routes[1].name: \"a\" is routes[0]'s name too"},
		{"same topic and group", "  - {name: a, input_topic: i, output_topic: o, group: g}\n  - {name: b, input_topic: i, output_topic: p, group: g}\n", "routes[1].group: routes[0] reads i in group \"g\" too"},
		{"output is input", "  - {name: a, input_topic: i, output_topic: i}\n", "routes[0].output_topic: must differ from input_topic"},
		{"in flight below batch", "  - {name: a, input_topic: i, output_topic: o, max_in_flight: 8, batch: {max_batch_size: 64}}\n", "routes[0].max_in_flight: must be at least batch.max_batch_size (64), got 8"},
		{"bad batch", "  - {name: a, input_topic: i, output_topic: o, batch: {dispatch: soon}}\n", "routes[0].batch.dispatch"},
		{"bad field", "  - {name: a, input_topic: i, output_topic: o, fields: {event_id: 9x}}\n", "routes[0].fields.event_id"},
		{"bad drift", "  - {name: a, input_topic: i, output_topic: o, drift: {p_value: 2}}\n", "routes[0].drift.p_value"},
		{"model from two dirs", "  - {name: a, input_topic: i, output_topic: o, model: m, model_dir: /x}\n  - {name: b, input_topic: j, output_topic: p, model: m, model_dir: /y}\n", "routes[1].model_dir: model m is served from \"/x\" by routes[0]"},
		{"unknown key", "  - {name: a, input_topic: i, output_topic: o, topic: x}\n", "routes[0].topic"},
		{"single-route key beside routes", "  - {name: a, input_topic: i, output_topic: o}\npipeline:\n  input_topic: x\n", "pipeline.input_topic: is not used with routes (each route names its own: routes[].input_topic)"},
		{"bad type", "  - name: a\n    input_topic: i\n    output_topic: o\n    max_in_flight: many\n", "routes[0].max_in_flight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(base + tt.routes))
			if err == nil {
				err = c.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\ndoes not say %q", err, tt.want)
			}
		})
	}
}

// Two routes may read one topic in different groups (two models scoring
// the same events) and share a model.
func TestRoutesShareATopicOrAModel(t *testing.T) {
	c, err := Parse([]byte(`routes:
  - {name: a, input_topic: i, output_topic: o1}
  - {name: b, input_topic: i, output_topic: o2, model: other}
  - {name: c, input_topic: j, output_topic: o3}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	rs := c.Effective()
	if rs[0].Pipeline.DLQTopic != "i.dlq" || rs[1].Pipeline.DLQTopic != "i.dlq" || rs[0].Model.Name != rs[2].Model.Name {
		t.Errorf("routes = %+v", rs)
	}
}
