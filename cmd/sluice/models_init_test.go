package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testmodels"
	"github.com/sluice-ml/sluice/schemas"
)

// Avro records of the users' own, for the models the model-shape tests
// serve.
const (
	irisSchema = `{"type": "record", "name": "Iris", "namespace": "garden", "fields": [
  {"name": "event_id", "type": "string"},
  {"name": "sepal_length", "type": "float"}, {"name": "sepal_width", "type": "float"},
  {"name": "petal_length", "type": "float"}, {"name": "petal_width", "type": "float"}]}`
	fourSchema = `{"type": "record", "name": "Four", "fields": [{"name": "x0", "type": "float"},
  {"name": "x1", "type": "float"}, {"name": "x2", "type": "double"}, {"name": "x3", "type": "double"}]}`
	vecSchema = `{"type": "record", "name": "Vec", "fields": [{"name": "entity_id", "type": "string"},
  {"name": "x", "type": {"type": "array", "items": "float"}}]}`
	multiSchema = `{"type": "record", "name": "Multi", "fields": [{"name": "a", "type": "int"},
  {"name": "b", "type": {"type": "array", "items": "double"}}]}`
	severalSchema = `{"type": "record", "name": "Several", "fields": [
  {"name": "ints", "type": {"type": "array", "items": "int"}},
  {"name": "floats", "type": {"type": "array", "items": "float"}},
  {"name": "halves", "type": {"type": "array", "items": "float"}}]}`
)

// modelFile is the path of a model the model-shape tests serve: a fixture,
// or one of onnxruntime_go's test models in the module cache.
func modelFile(t *testing.T, name string) string {
	t.Helper()
	if p := filepath.Join(testmodels.Dir(t), name+".onnx"); fileExists(p) {
		return p
	}
	return filepath.Join(testmodels.ORTTestData(t), name+".onnx")
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// cli runs `sluice models` against a Redis and a schema registry.
type cli struct {
	t                     *testing.T
	redisURL, registryURL string
}

// newCLI starts redis-server and the embedded schema registry on it, and
// registers each subject's schema.
func newCLI(t *testing.T, subjects map[string]string) *cli {
	t.Helper()
	for _, k := range []string{"SLUICE_REDIS_URL", "SLUICE_REGISTRY_URL"} {
		t.Setenv(k, "") // restored when the test ends
		os.Unsetenv(k)  // an empty variable would set its key to ""
	}
	rs := testkit.StartRedis(t)
	srv := httptest.NewServer(schemas.NewServer(rs.Client()))
	t.Cleanup(srv.Close)
	client := schemas.NewClient(srv.URL, nil)
	for subject, schema := range subjects {
		if _, err := client.Register(t.Context(), subject, schema); err != nil {
			t.Fatal(err)
		}
	}
	return &cli{t: t, redisURL: rs.URL, registryURL: srv.URL}
}

func (c *cli) run(args ...string) (string, error) {
	var out bytes.Buffer
	args = append(args, "--redis-url", c.redisURL, "--registry-url", c.registryURL)
	err := runModels(c.t.Context(), args, &out, slog.New(slog.DiscardHandler))
	return out.String(), err
}

func (c *cli) must(args ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("sluice models %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// `sluice models init` drafts each model's signature from the model file
// and the subject's latest schema in the schema registry: the draft leaves
// nothing open for a record that fits, parses, and loads with the model.
func TestModelsInit(t *testing.T) {
	c := newCLI(t, map[string]string{"iris-value": irisSchema, "four-value": fourSchema, "vec-value": vecSchema,
		"multi-value": multiSchema, "several-value": severalSchema})
	for _, tt := range []struct{ model, subject, want string }{
		{"sklearn_randomforest", "iris-value", "kind: zipmap"},
		{"torch_softmax", "four-value", "kind: probabilities"},
		{"torch_logits", "vec-value", "activation: softmax"},
		{"torch_fixed_batch1", "vec-value", "shape: [1, 4]"},
		{"torch_fixed_batch4", "vec-value", "shape: [4, 4]"},
		{"example_multitype", "multi-value", "dtype: uint8"},
	} {
		t.Run(tt.model, func(t *testing.T) {
			path := modelFile(t, tt.model)
			out := c.must("init", tt.model, "--onnx", path, "--subject", tt.subject)
			t.Logf("sluice models init %s:\n%s", tt.model, out)
			if strings.Contains(out, "# TODO") || !strings.Contains(out, tt.want) ||
				!strings.Contains(out, "and the Avro record") || !strings.Contains(out, "(subject "+tt.subject+", version 1)") {
				t.Fatalf("draft lacks %q or has a TODO", tt.want)
			}
			sig, err := inference.ParseSignature([]byte(out))
			if err != nil {
				t.Fatal(err)
			}
			onnx, _ := os.ReadFile(path)
			m, err := inference.LoadModel(tt.model, "1", onnx, sig, inference.SessionConfig{Provider: inference.ProviderCPU, IntraOpThreads: 1}, nil)
			if err != nil {
				t.Fatalf("the draft does not load: %v", err)
			}
			m.Close()
		})
	}
	avsc := filepath.Join(t.TempDir(), "iris.avsc")
	os.WriteFile(avsc, []byte(irisSchema), 0o644)
	if out := c.must("init", "iris", "--onnx", modelFile(t, "sklearn_randomforest"), "--schema", avsc); !strings.Contains(out, "(iris.avsc)") {
		t.Fatalf("--schema: %s", out)
	}
	out := c.must("init", "several", "--onnx", modelFile(t, "example_several_inputs_and_outputs"), "--subject", "several-value")
	if strings.Count(out, "# TODO: which fields fill input") != 2 {
		t.Fatalf("two arrays for two inputs should be left open:\n%s", out)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown subject", []string{"init", "iris", "--onnx", modelFile(t, "sklearn_randomforest"), "--subject", "irises-value"}, `subject "irises-value" is not registered at http://`},
		{"no schema named", []string{"init", "iris", "--onnx", modelFile(t, "sklearn_randomforest")}, "--subject SUBJECT (the input topic's, TOPIC-value, at --registry-url) or --schema FILE.avsc"},
		{"no model", []string{"init", "iris", "--subject", "iris-value"}, "give --onnx FILE"},
		{"not a model", []string{"init", "iris", "--onnx", avsc, "--subject", "iris-value"}, "does not load"},
		{"no name", []string{"init", "--onnx", avsc}, "usage: sluice models init NAME"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.run(tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	var out2 bytes.Buffer
	err := runModels(t.Context(), []string{"init", "iris", "--onnx", modelFile(t, "sklearn_randomforest"), "--subject", "iris-value"}, &out2, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "pass --registry-url or set SLUICE_REGISTRY_URL") {
		t.Fatalf("without a registry URL: %v", err)
	}
}

// `models register` without --signature registers the draft when it leaves
// nothing open, and refuses, printing it, when it does; --metrics takes a
// JSON object or @FILE; a profile that is not one, or does not fit the
// signature, is refused.
func TestModelsRegisterDraftsAndChecks(t *testing.T) {
	c := newCLI(t, map[string]string{"iris-value": irisSchema, "several-value": severalSchema})
	iris := modelFile(t, "sklearn_randomforest")
	out := c.must("register", "iris", "--onnx", iris, "--subject", "iris-value", "--metrics", `{"accuracy": 0.97}`)
	if !strings.Contains(out, "the drafted signature:\n# signature.yaml of model iris") || !strings.Contains(out, "registered iris version 1 (candidate)") {
		t.Fatalf("register with a draft:\n%s", out)
	}
	metricsFile := filepath.Join(t.TempDir(), "metrics.json")
	os.WriteFile(metricsFile, []byte(`{"accuracy": 0.96}`), 0o644)
	c.must("register", "iris", "--onnx", iris, "--subject", "iris-value", "--metrics", "@"+metricsFile)
	if out := c.must("show", "iris"); !strings.Contains(out, "accuracy=0.97") || !strings.Contains(out, "accuracy=0.96") {
		t.Fatalf("metrics inline and from @file:\n%s", out)
	}

	out, err := c.run("register", "several", "--onnx", modelFile(t, "example_several_inputs_and_outputs"), "--subject", "several-value")
	if err == nil || !strings.Contains(err.Error(), "leaves 2 decisions open (its TODO lines)") || !strings.Contains(out, "# TODO: which fields fill input \"input 2\"") {
		t.Fatalf("an open draft: err = %v\n%s", err, out)
	}

	sig := filepath.Join(t.TempDir(), "signature.yaml")
	os.WriteFile(sig, []byte(c.must("init", "iris", "--onnx", iris, "--subject", "iris-value")), 0o644)
	garbage := filepath.Join(t.TempDir(), "profile.json")
	os.WriteFile(garbage, []byte("\x00\x01garbage"), 0o644)
	foreign := filepath.Join(t.TempDir(), "foreign.json")
	b, _ := json.Marshal(drift.Profile{Format: drift.ProfileFormat, Rows: 1,
		Numeric: []drift.NumericProfile{{Name: "amount", Edges: []float64{1}, Proportions: []float64{0.5, 0.5}}}})
	os.WriteFile(foreign, b, 0o644)
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr error
		want    string
	}{
		{"profile of random bytes", []string{"--profile", garbage}, drift.ErrBadProfile, "model iris: profile: drift: bad profile"},
		{"profile of another model", []string{"--profile", foreign}, drift.ErrBadProfile, `numeric feature "amount" is not a column the signature reads`},
		{"metrics not JSON", []string{"--metrics", `{"auc": high}`}, nil, `--metrics {"auc": high}: want a JSON object of numbers`},
		{"metrics file missing", []string{"--metrics", "@/nonexistent/metrics.json"}, nil, "--metrics: not a JSON object, nor a file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.run(append([]string{"register", "iris", "--onnx", iris, "--signature", sig}, tt.args...)...)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := c.run("register", "iris", "--onnx", iris); err == nil || !strings.Contains(err.Error(), "give --signature FILE, or --subject SUBJECT") {
		t.Fatalf("neither a signature nor a schema: %v", err)
	}
	c.must("register", "iris", "--onnx", iris, "--signature", sig, "--stage", "production")
	lines := strings.Split(strings.TrimSpace(c.must("list")), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[1])[:6], " ") != "iris 3 - - 3 -" {
		t.Fatalf("list: production 3, no worker yet:\n%s", strings.Join(lines, "\n"))
	}
}
