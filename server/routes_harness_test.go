package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/schemas"
)

// routesConfig is a config on e's servers with the given routes, drift
// off (the drift tests cover it) and the admin server on a free port.
func routesConfig(e *testworker.Env, routes ...config.Route) config.Config {
	cfg := config.Default()
	cfg.Kafka.Brokers, cfg.Registry.URL = []string{e.Kafka.Addr}, e.Registry
	cfg.Redis.URL = "redis://" + e.Redis.Options().Addr + "/0"
	cfg.Admin.Addr = "127.0.0.1:0"
	cfg.Drift.Enabled = false
	cfg.Routes = routes
	return cfg
}

// running is a server.Run in progress.
type running struct {
	Ready
	logs *logBuffer
	stop func() error // cancels Run and returns its error
}

// startRun runs cfg until the test ends (or stop), once it is listening.
func startRun(t *testing.T, cfg config.Config) *running {
	t.Helper()
	logs := &logBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	ready, done := make(chan Ready, 1), make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), func(r Ready) { ready <- r }) }()
	r := &running{logs: logs}
	var stopped bool
	var runErr error
	r.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(60 * time.Second):
				t.Errorf("Run did not return within 60s of its cancel\n%s", logs)
			}
		}
		return runErr
	}
	t.Cleanup(func() { _ = r.stop() })
	select {
	case r.Ready = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Run stopped before it was ready: %v\n%s", err, logs)
	case <-time.After(90 * time.Second):
		t.Fatalf("Run not ready in 90s\n%s", logs)
	}
	return r
}

// readyz is what /readyz answered.
type readyz struct {
	Code  int
	Ready bool `json:"ready"`
	Conds []struct {
		Name, Detail, Route string
	} `json:"conditions"`
	Routes []struct {
		Name       string
		Ready      bool
		Optional   bool
		Conditions []struct{ Condition, Detail string }
	} `json:"routes"`
}

func (r *running) readyz(t *testing.T) readyz {
	t.Helper()
	resp, err := http.Get("http://" + r.AdminAddr.String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b readyz
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatal(err)
	}
	b.Code = resp.StatusCode
	return b
}

// feed publishes demo events onto one input topic, framed with a schema
// registered under that topic's subject, and remembers their ids in
// publish order.
type feed struct {
	e     *testworker.Env
	topic string
	enc   *schemas.Encoder
	gen   *demo.Generator
	ids   []string
	keys  map[string]string // event id → key
}

func newFeed(t *testing.T, e *testworker.Env, topic string, seed int64) *feed {
	t.Helper()
	enc, err := schemas.NewEncoder(t.Context(), e.Client, schemas.Subject(topic), schemas.TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	return &feed{e: e, topic: topic, enc: enc, gen: demo.NewGenerator(seed), keys: map[string]string{}}
}

func (f *feed) publish(t *testing.T, n int) {
	t.Helper()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		rec := f.gen.Next()
		v, err := f.enc.Append(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		id, key := rec["event_id"].(string), rec["entity_id"].(string)
		msgs[i] = kafka.Message{Key: []byte(key), Value: v}
		f.ids = append(f.ids, id)
		f.keys[id] = key
	}
	f.e.PublishTo(f.topic, msgs...)
}

// scored is what one output topic holds for a feed.
type scored struct {
	versions map[string]string // event id → model version
}

// check reads the feed's events back from output and checks the delivery
// promise of one route: every event scored exactly once, by model, in
// publish order per key; versions maps each event id to the version
// that scored it.
func (f *feed) check(t *testing.T, output, model string) scored {
	t.Helper()
	recs := f.e.Read(output, len(f.ids), 90*time.Second, 300*time.Millisecond)
	order := make(map[string]int, len(f.ids))
	for i, id := range f.ids {
		order[id] = i
	}
	s := scored{versions: map[string]string{}}
	last := map[string]int{}
	seen := map[string]int{}
	for _, r := range recs {
		id, _ := r.Rec["event_id"].(string)
		pos, ok := order[id]
		if !ok {
			t.Errorf("%s: a prediction for event %q never published on %s", output, id, f.topic)
			continue
		}
		seen[id]++
		if name := r.Rec["model_name"]; name != model {
			t.Errorf("%s: event %s scored by model %v, want %s", output, id, name, model)
		}
		s.versions[id] = fmt.Sprint(r.Rec["model_version"])
		key := f.keys[id]
		if p, ok := last[key]; ok && p > pos {
			t.Errorf("%s: key %s out of order: event %d after %d", output, key, pos, p)
		}
		last[key] = pos
	}
	var lost, dup int
	for _, id := range f.ids {
		switch n := seen[id]; {
		case n == 0:
			lost++
		case n > 1:
			dup += n - 1
		}
	}
	if lost != 0 || dup != 0 {
		t.Errorf("%s: %d events, %d lost, %d duplicates", output, len(f.ids), lost, dup)
	}
	return s
}
