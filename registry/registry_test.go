package registry_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/registry"
)

// TestLifecycle registers, promotes and rolls back, and checks the
// stages, the history, the events emitted and those published.
func TestLifecycle(t *testing.T) {
	e := newEnv(t, registry.Config{})
	ctx := t.Context()
	sub := e.rdb.Subscribe(ctx, registry.Channel("fraud"))
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := sub.Channel()

	v1 := e.register(t, "fraud", 1, 0)
	if v1.Version != "1" || v1.Stage != registry.StageCandidate || len(v1.SHA256) != 64 {
		t.Fatalf("first version = %+v", v1)
	}
	e.promote(t, "fraud", "1", registry.StageProduction, 0)
	e.register(t, "fraud", 2, 0)
	e.promote(t, "fraud", "2", registry.StageProduction, 0)
	stages := func() string {
		vs, err := e.reg.Versions(ctx, "fraud")
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, v := range vs {
			s = append(s, v.Version+"="+string(v.Stage))
		}
		return strings.Join(s, " ")
	}
	if got := stages(); got != "1=archived 2=production" {
		t.Fatalf("after promoting 2: %s", got)
	}
	st, err := e.reg.State(ctx, "fraud")
	if err != nil {
		t.Fatal(err)
	}
	if st.Production != "2" || !slices.Equal(st.History, []string{"1", "2"}) || st.Latest != "2" {
		t.Fatalf("state = %+v", st)
	}
	ev, err := e.reg.Rollback(ctx, "fraud", "bad precision")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Version != "1" || ev.Previous != "2" {
		t.Fatalf("rollback event = %+v", ev)
	}
	if got := stages(); got != "1=production 2=archived" {
		t.Fatalf("after rollback: %s", got)
	}
	if _, err := e.reg.Rollback(ctx, "fraud", ""); !errors.Is(err, registry.ErrNoPrevious) {
		t.Fatalf("second rollback: %v, want ErrNoPrevious", err)
	}

	want := []string{
		"registered 1 candidate ", "promoted 1 production ",
		"registered 2 candidate ", "promoted 2 production 1", "rolled_back 1 production 2",
	}
	if got := summary(e.events.All()); !slices.Equal(got, want) {
		t.Fatalf("emitted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var published []registry.Event
	for range want {
		select {
		case m := <-msgs:
			var ev registry.Event
			if err := json.Unmarshal([]byte(m.Payload), &ev); err != nil {
				t.Fatal(err)
			}
			published = append(published, ev)
		case <-time.After(2 * time.Second):
			t.Fatalf("published %d events, want %d", len(published), len(want))
		}
	}
	if got := summary(published); !slices.Equal(got, want) {
		t.Fatalf("published:\n%s", strings.Join(got, "\n"))
	}

	v, err := e.reg.Version(ctx, "fraud", "2")
	if err != nil {
		t.Fatal(err)
	}
	if v.Metrics["auc"] != 0.92 || string(v.Signature) != string(sigYAML(t, nil)) || v.Created.IsZero() {
		t.Fatalf("version 2 read back as %+v", v)
	}
	if names, _ := e.reg.Models(ctx); !slices.Equal(names, []string{"fraud"}) {
		t.Fatalf("Models = %v", names)
	}
}

func TestRegisterRefuses(t *testing.T) {
	e := newEnv(t, registry.Config{MaxModelBytes: 4096})
	good := demoONNX(t, 1, 0)
	tests := []struct {
		name    string
		model   string
		req     registry.RegisterRequest
		wantErr error
	}{
		{"corrupt model", "fraud", registry.RegisterRequest{ONNX: []byte("not an onnx model at all"), Signature: sigYAML(t, nil)}, registry.ErrCorruptModel},
		{"input tensor renamed", "fraud", registry.RegisterRequest{ONNX: good, Signature: sigYAML(t, func(s *inference.Signature) {
			s.Input.Tensor = "inputs"
		})}, registry.ErrSignatureMismatch},
		{"one column short", "fraud", registry.RegisterRequest{ONNX: good, Signature: sigYAML(t, func(s *inference.Signature) {
			s.Input.Columns = s.Input.Columns[1:]
		})}, registry.ErrSignatureMismatch},
		{"three classes", "fraud", registry.RegisterRequest{ONNX: good, Signature: sigYAML(t, func(s *inference.Signature) {
			s.Output.Classes = append(s.Output.Classes, "chargeback")
		})}, registry.ErrSignatureMismatch},
		{"signature not yaml", "fraud", registry.RegisterRequest{ONNX: good, Signature: []byte("input: [")}, registry.ErrSignatureMismatch},
		{"over the size cap", "fraud", registry.RegisterRequest{ONNX: demoONNX(t, 1, 64), Signature: sigYAML(t, nil)}, registry.ErrTooLarge},
		{"uri and bytes", "fraud", registry.RegisterRequest{ONNX: good, URI: "/tmp/x.onnx", Signature: sigYAML(t, nil)}, nil},
		{"no model", "fraud", registry.RegisterRequest{Signature: sigYAML(t, nil)}, nil},
		{"missing file", "fraud", registry.RegisterRequest{URI: "file:///nonexistent/model.onnx", Signature: sigYAML(t, nil)}, registry.ErrMissingBlob},
		{"http uri", "fraud", registry.RegisterRequest{URI: "http://example.com/m.onnx", Signature: sigYAML(t, nil)}, nil},
		{"bad name", "fraud:1", registry.RegisterRequest{ONNX: good, Signature: sigYAML(t, nil)}, nil},
		{"archived stage", "fraud", registry.RegisterRequest{ONNX: good, Signature: sigYAML(t, nil), Stage: registry.StageArchived}, registry.ErrBadStage},
		{"unknown stage", "fraud", registry.RegisterRequest{ONNX: good, Signature: sigYAML(t, nil), Stage: "staging"}, registry.ErrBadStage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.reg.Register(t.Context(), tt.model, tt.req)
			if err == nil {
				t.Fatal("registered")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			t.Log(err)
		})
	}
	if _, err := e.reg.State(t.Context(), "fraud"); !errors.Is(err, registry.ErrUnknownModel) {
		t.Fatalf("a refused registration left state behind: %v", err)
	}
}

func TestPromoteRefuses(t *testing.T) {
	e := newEnv(t, registry.Config{})
	e.register(t, "fraud", 1, 0)
	e.register(t, "fraud", 2, 0)
	ctx := t.Context()
	promote := func(name, v string, to registry.Stage, pct float64) error {
		_, err := e.reg.Promote(ctx, name, v, to, registry.PromoteOptions{Percent: pct})
		return err
	}
	if err := promote("fraud", "2", registry.StageCanary, 20); !errors.Is(err, registry.ErrBadStage) {
		t.Fatalf("canary without production: %v", err)
	}
	if err := promote("fraud", "1", registry.StageProduction, 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		err     error
		wantErr error
	}{
		{"unknown model", promote("fraude", "1", registry.StageProduction, 0), registry.ErrUnknownModel},
		{"unknown version", promote("fraud", "9", registry.StageProduction, 0), registry.ErrUnknownVersion},
		{"already production", promote("fraud", "1", registry.StageProduction, 0), registry.ErrBadStage},
		{"production as canary", promote("fraud", "1", registry.StageCanary, 10), registry.ErrBadStage},
		{"archive production", promote("fraud", "1", registry.StageArchived, 0), registry.ErrBadStage},
		{"back to candidate", promote("fraud", "2", registry.StageCandidate, 0), registry.ErrBadStage},
		{"unknown stage", promote("fraud", "2", "staging", 0), registry.ErrBadStage},
		{"percent over 100", promote("fraud", "2", registry.StageCanary, 120), nil},
		{"rollback unknown", func() error { _, err := e.reg.Rollback(ctx, "fraude", ""); return err }(), registry.ErrUnknownModel},
		{"rollback without history", func() error { _, err := e.reg.Rollback(ctx, "fraud", ""); return err }(), registry.ErrNoPrevious},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("accepted")
			}
			if tt.wantErr != nil && !errors.Is(tt.err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", tt.err, tt.wantErr)
			}
		})
	}
	if _, err := e.reg.Version(ctx, "fraud", "7"); !errors.Is(err, registry.ErrUnknownVersion) {
		t.Fatalf("Version(7): %v", err)
	}
	if _, err := e.reg.Versions(ctx, "nope"); !errors.Is(err, registry.ErrUnknownModel) {
		t.Fatalf("Versions(nope): %v", err)
	}
}

// TestCanaryShadowStages moves versions through canary and shadow beside
// production.
func TestCanaryShadowStages(t *testing.T) {
	e := newEnv(t, registry.Config{})
	for i := range 4 {
		e.register(t, "fraud", uint64(i+1), 0)
	}
	e.promote(t, "fraud", "1", registry.StageProduction, 0)
	e.promote(t, "fraud", "2", registry.StageCanary, 20)
	e.promote(t, "fraud", "3", registry.StageShadow, 5)
	check := func(step, want string) {
		t.Helper()
		st, err := e.reg.State(t.Context(), "fraud")
		if err != nil {
			t.Fatal(err)
		}
		vs, _ := e.reg.Versions(t.Context(), "fraud")
		got := ""
		for _, v := range vs {
			got += v.Version + "=" + string(v.Stage) + " "
		}
		got += "| p=" + st.Production + " c=" + st.Canary + " s=" + st.Shadow
		got += " cp=" + trim(st.CanaryPercent) + " sf=" + trim(st.ShadowFraction)
		if got != want {
			t.Fatalf("%s:\n got %s\nwant %s", step, got, want)
		}
	}
	check("set up", "1=production 2=canary 3=shadow 4=candidate | p=1 c=2 s=3 cp=20 sf=0.05")
	e.promote(t, "fraud", "2", registry.StageCanary, 50)
	check("canary grows", "1=production 2=canary 3=shadow 4=candidate | p=1 c=2 s=3 cp=50 sf=0.05")
	e.promote(t, "fraud", "4", registry.StageCanary, 0)
	check("canary replaced", "1=production 2=archived 3=shadow 4=canary | p=1 c=4 s=3 cp=10 sf=0.05")
	e.promote(t, "fraud", "4", registry.StageProduction, 0)
	check("canary promoted", "1=archived 2=archived 3=shadow 4=production | p=4 c= s=3 cp=0 sf=0.05")
	e.promote(t, "fraud", "3", registry.StageArchived, 0)
	check("shadow retired", "1=archived 2=archived 3=archived 4=production | p=4 c= s= cp=0 sf=0")
}

func trim(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// TestConcurrentChanges registers and promotes from many goroutines:
// version numbers are unique and dense, exactly one version ends in
// production, and the history holds every promotion once.
func TestConcurrentChanges(t *testing.T) {
	e := newEnv(t, registry.Config{})
	const n = 8
	onnx := demoONNX(t, 1, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for range n {
		wg.Go(func() {
			_, err := e.reg.Register(t.Context(), "fraud", registry.RegisterRequest{ONNX: onnx, Signature: sigYAML(t, nil)})
			errs <- err
		})
	}
	wg.Wait()
	vs, err := e.reg.Versions(t.Context(), "fraud")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != n || vs[n-1].Version != "8" {
		t.Fatalf("%d versions registered concurrently, last %s", len(vs), vs[len(vs)-1].Version)
	}
	for i := range n {
		wg.Go(func() {
			_, err := e.reg.Promote(t.Context(), "fraud", vs[i].Version, registry.StageProduction, registry.PromoteOptions{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st, _ := e.reg.State(t.Context(), "fraud")
	vs, _ = e.reg.Versions(t.Context(), "fraud")
	prod := 0
	for _, v := range vs {
		switch {
		case v.Stage == registry.StageProduction && v.Version == st.Production:
			prod++
		case v.Stage != registry.StageArchived:
			t.Errorf("version %s is %s (production is %s)", v.Version, v.Stage, st.Production)
		}
	}
	hist := slices.Clone(st.History)
	slices.Sort(hist)
	if prod != 1 || len(st.History) != n || len(slices.Compact(hist)) != n || st.History[n-1] != st.Production {
		t.Fatalf("production %s (%d versions in it), history %v", st.Production, prod, st.History)
	}
	if got := len(e.events.All()); got != 2*n {
		t.Fatalf("%d events emitted, want %d", got, 2*n)
	}
}

// TestRegisterStage registers straight into production, then a canary.
func TestRegisterStage(t *testing.T) {
	e := newEnv(t, registry.Config{})
	for _, tt := range []struct {
		stage registry.Stage
		pct   float64
	}{{registry.StageProduction, 0}, {registry.StageCanary, 30}} {
		v, err := e.reg.Register(t.Context(), "fraud", registry.RegisterRequest{
			ONNX: demoONNX(t, 1, 0), Signature: sigYAML(t, nil), Stage: tt.stage, Percent: tt.pct,
		})
		if err != nil {
			t.Fatal(err)
		}
		if v.Stage != tt.stage {
			t.Fatalf("registered as %s, want %s", v.Stage, tt.stage)
		}
	}
	st, _ := e.reg.State(t.Context(), "fraud")
	if st.Production != "1" || st.Canary != "2" || st.CanaryPercent != 30 {
		t.Fatalf("state = %+v", st)
	}
	want := []string{"registered 1 candidate ", "promoted 1 production ", "registered 2 candidate ", "promoted 2 canary "}
	if got := summary(e.events.All()); !slices.Equal(got, want) {
		t.Fatalf("events %v", got)
	}
}
