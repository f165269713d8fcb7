package status

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Drift charts get one point per drift window; samples between windows
// add none.
func TestDriftHistory(t *testing.T) {
	m := newMetrics(t)
	s := newSampler(t, m.reg, Config{DriftWindows: 3})
	t0 := time.Unix(1_700_000_000, 0)
	_ = s.Sample(t0)
	if st := s.Status(); len(st.Drift) != 0 {
		t.Fatalf("drift before any window: %+v", st.Drift)
	}
	for w := 1; w <= 5; w++ {
		m.score.WithLabelValues("fraud", "amount", "ks").Set(0.1 * float64(w))
		m.score.WithLabelValues("fraud", "amount", "psi").Set(0.01 * float64(w))
		m.windows.WithLabelValues("fraud", "false").Inc()
		for i := range 3 { // three samples per window
			_ = s.Sample(t0.Add(time.Duration(w*10+i) * time.Second))
		}
	}
	st := s.Status()
	if len(st.Drift) != 2 {
		t.Fatalf("%d drift series, want amount/ks and amount/psi: %+v", len(st.Drift), st.Drift)
	}
	ks := st.Drift[0]
	if ks.Feature != "amount" || ks.Test != "ks" || ks.Model != "fraud" {
		t.Fatalf("first series %+v", ks)
	}
	if len(ks.Points) != 3 {
		t.Fatalf("%d points, want the last 3 windows: %v", len(ks.Points), ks.Points)
	}
	if !near(ks.Latest, 0.5) || !near(ks.Points[0][1], 0.3) || ks.Points[0][0] != Num(t0.Add(30*time.Second).UnixMilli()) {
		t.Fatalf("points %v latest %v, want windows 3..5 (0.3 .. 0.5) at their first sample", ks.Points, ks.Latest)
	}
}

// Events come from changes between samples: versions in service, retrain
// requests, drifted windows. The newest is first.
func TestEvents(t *testing.T) {
	m := newMetrics(t)
	s := newSampler(t, m.reg, Config{Events: 4})
	t0 := time.Unix(1_700_000_000, 0)
	m.info.WithLabelValues("fraud", "1").Set(1)
	_ = s.Sample(t0)
	m.windows.WithLabelValues("fraud", "true").Inc()
	m.retrains.WithLabelValues("fraud").Inc()
	_ = s.Sample(t0.Add(time.Second))
	_ = s.Sample(t0.Add(2 * time.Second)) // nothing changed
	m.info.DeleteLabelValues("fraud", "1")
	m.versions.WithLabelValues("fraud", "2", "production").Set(1)
	m.versions.WithLabelValues("fraud", "3", "canary").Set(1)
	_ = s.Sample(t0.Add(3 * time.Second))

	st := s.Status()
	var got []string
	for _, e := range st.Events {
		got = append(got, e.Kind+": "+e.Text)
	}
	want := []string{
		"model: fraud version 1 no longer serving",
		"model: fraud version 2 serving (production)",
		"model: fraud version 3 serving (canary)",
		"retrain: fraud: 1 retrain request emitted",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events (newest first, 4 kept):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(st.Models) != 2 || st.Models[0].Stage != "canary" || st.Models[1].Version != "2" {
		t.Fatalf("models %+v, want canary v3 and production v2", st.Models)
	}
}

// A version the registry assigns that the worker does not serve is
// listed beside what it serves, with its state and reason.
func TestHeldVersions(t *testing.T) {
	m := newMetrics(t)
	held := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: mHeld}, []string{"model", "version", "stage", "state", "reason"})
	m.reg.MustRegister(held)
	s := newSampler(t, m.reg, Config{})
	m.versions.WithLabelValues("iris", "1", "production").Set(1)
	held.WithLabelValues("iris", "3", "production", "refused", "schema").Set(1)
	held.WithLabelValues("iris", "2", "canary", "waiting", "input_schema").Set(1)
	_ = s.Sample(time.Now())
	st := s.Status()
	want := []Held{{"iris", "2", "canary", "waiting", "input_schema"}, {"iris", "3", "production", "refused", "schema"}}
	if len(st.Held) != 2 || st.Held[0] != want[0] || st.Held[1] != want[1] || len(st.Models) != 1 {
		t.Fatalf("held %+v (serving %+v), want %+v", st.Held, st.Models, want)
	}
	held.Reset()
	_ = s.Sample(time.Now())
	if st := s.Status(); len(st.Held) != 0 {
		t.Fatalf("held after the series went: %+v", st.Held)
	}
}

func TestHandlers(t *testing.T) {
	m := newMetrics(t)
	s := newSampler(t, m.reg, Config{})
	m.consumed.Add(3)
	_ = s.Sample(time.Now())
	mux := http.NewServeMux()
	s.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tests := []struct {
		path, contentType, contains string
		status                      int
	}{
		{"/", "text/html", `src="/status/app.js"`, 200},
		{"/status/app.js", "text/javascript", "/api/status", 200},
		{"/status/style.css", "text/css", "--bg", 200},
		{"/api/status", "application/json", `"in_total":3`, 200},
		{"/nope", "text/plain", "404", 404},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.contentType) || !strings.Contains(string(body), tt.contains) {
				t.Fatalf("%s: %d %s, want %d %s containing %q:\n%.300s", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.contentType, tt.contains, body)
			}
		})
	}
	resp, err := http.Get(srv.URL + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"throughput", "latency", "batch_size_mean", "lag", "queues", "dead_letters", "models", "held", "series", "drift", "events"} {
		if _, ok := st[k]; !ok {
			t.Errorf("status JSON has no %q", k)
		}
	}
}

// Drifted windows in a row share one event; a retrain in between starts a
// new one.
func TestDriftEventsCoalesce(t *testing.T) {
	m := newMetrics(t)
	s := newSampler(t, m.reg, Config{})
	t0 := time.Unix(1_700_000_000, 0)
	_ = s.Sample(t0)
	step := func(sec int, retrain bool) {
		m.windows.WithLabelValues("fraud", "true").Inc()
		if retrain {
			m.retrains.WithLabelValues("fraud").Inc()
		}
		_ = s.Sample(t0.Add(time.Duration(sec) * time.Second))
	}
	step(1, false)
	step(2, false)
	step(3, true)
	step(4, false)
	var got []string
	for _, e := range s.Status().Events {
		got = append(got, e.Text)
	}
	want := []string{
		"fraud: 1 drift window drifted",
		"fraud: 1 retrain request emitted",
		"fraud: 3 drift windows drifted", // the window of the retrain's sample counts before it

	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
