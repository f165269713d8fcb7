package status_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/admin"
	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/oip"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/status"
)

// chromium finds the browser, or skips the test when it is missing and
// SLUICE_REQUIRE_CHROMIUM is not set (`make test` installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("SLUICE_REQUIRE_CHROMIUM") != "" {
		t.Fatal("chromium is not installed and SLUICE_REQUIRE_CHROMIUM is set (apt-get install chromium; make test does it)")
	}
	t.Skip("chromium is not installed: skipping the headless-browser test of the status page (apt-get install chromium, or make test; set SLUICE_REQUIRE_CHROMIUM=1 to make this a failure)")
	return ""
}

// browse loads url in headless Chromium, lets the page run for budget of
// virtual time (its polls fetch for real), and returns the DOM or writes a
// screenshot.
func browse(t *testing.T, bin, url string, budget time.Duration, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-extensions", "--user-data-dir=" + t.TempDir(),
		"--virtual-time-budget=" + strconv.Itoa(int(budget.Milliseconds()))}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.String())
	}
	return stdout.String()
}

// The page, driven by a real browser against a worker with live traffic
// and drift monitoring, shows live numbers and draws its charts.
func TestStatusPageInChromium(t *testing.T) {
	bin := chromium(t)
	env := testworker.New(t, 2)
	reg := prometheus.NewRegistry()
	mon, err := drift.NewMonitor(drift.Config{WindowEvents: 400, MinWindowEvents: 100, FlushInterval: 200 * time.Millisecond,
		FlushEvents: 100, RetrainK: 2, RetrainM: 3}, "fraud", "1", env.DemoProfile(t), env.Redis, env.NewSink(),
		drift.WithMetrics(drift.NewMetrics(reg)), drift.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	sampler, err := status.NewSampler(reg, status.Config{Interval: 250 * time.Millisecond, Window: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w := env.StartWorker(pipeline.Config{Group: "status"}, testworker.Options{
		Registry: reg, Observer: mon,
		Handlers: func(pw *pipeline.Worker, adm *admin.Server) {
			sampler.SetReadiness(adm.Readiness)
			sampler.Register(adm)
			oip.New(pw, oip.Config{}).Register(adm) // as server.Run does: the patterns must not clash
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() { _ = mon.Run(ctx) })
	wg.Go(func() { _ = sampler.Run(ctx) })
	w.WaitReady(t)

	// Live traffic: ~400 events/s, event_time now, drifted (amount shifted)
	// after the first 800 so that windows drift and a retrain is requested.
	wg.Go(func() {
		gen := demo.NewGenerator(3, demo.WithClock(time.Now), demo.WithDrift(demo.Drift{After: 800, Features: []string{"amount", "merchant_risk"}, Shift: 3}))
		kw := &kafka.Writer{Addr: kafka.TCP(env.Kafka.Addr), Topic: testworker.Features, Balancer: &kafka.Murmur2Balancer{},
			RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
		defer kw.Close()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			msgs := make([]kafka.Message, 20)
			for i := range msgs {
				msgs[i] = env.Encode(gen.Next())
			}
			msgs[0].Value = []byte{0} // one dead letter per batch
			if err := kw.WriteMessages(ctx, msgs...); err != nil && ctx.Err() == nil {
				t.Errorf("publishing: %v", err)
				return
			}
		}
	})

	// Wait until the sampler has seen throughput, drift windows and a retrain.
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := sampler.Status()
		retrained := false
		for _, e := range st.Events {
			retrained = retrained || e.Kind == "retrain"
		}
		if float64(st.Throughput.In) > 0 && float64(st.Throughput.Out) > 0 && len(st.Drift) > 0 && len(st.Drift[0].Points) >= 2 && retrained {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sampler did not see traffic, two drift windows and a retrain within 60s: in %v out %v, %d drift series, events %+v",
				st.Throughput.In, st.Throughput.Out, len(st.Drift), st.Events)
		}
		time.Sleep(200 * time.Millisecond)
	}

	dom := browse(t, bin, w.URL+"/", 4*time.Second, "--dump-dom")
	polls := attr(t, dom, `<body[^>]*data-polls="(\d+)"`)
	if n, _ := strconv.Atoi(polls); n < 3 {
		t.Fatalf("the page polled %s times, want at least 3", polls)
	}
	for _, id := range []string{"throughput-in", "throughput-out"} {
		v := attr(t, dom, `id="`+id+`">([^<]*)<`)
		if f, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64); err != nil || f <= 0 {
			t.Errorf("#%s shows %q, want a positive events/s number", id, v)
		}
	}
	for _, id := range []string{"latency-p50", "latency-p99", "batch-mean", "lag"} {
		if v := attr(t, dom, `id="`+id+`">([^<]*)<`); v == "—" {
			t.Errorf("#%s shows no number", id)
		}
	}
	for _, cls := range []string{"in", "out", "p99"} {
		if n := points(t, dom, `<path class="`+cls+`" d="M[^"]*L[^"]*" data-points="(\d+)"`); n < 2 {
			t.Errorf("the %s line has %d points, want at least 2", cls, n)
		}
	}
	if n := points(t, dom, `<figure data-key="fraud/amount" class="drift-chart">.*?<path class="stat" d="M[^"]*" data-points="(\d+)"`); n < 2 {
		t.Errorf("the amount drift chart has %d points, want at least 2 windows", n)
	}
	if !strings.Contains(attr(t, dom, `id="model-production">([^<]*)<`), "fraud v1") {
		t.Errorf("the page does not show fraud v1 in service")
	}
	if !regexp.MustCompile(`<li class="event ev-retrain">`).MatchString(dom) {
		t.Errorf("the events list has no retrain event")
	}
	if !regexp.MustCompile(`(?s)id="dead-letters">.*?short_frame`).MatchString(dom) {
		t.Errorf("the dead-letter table does not list short_frame")
	}
	if !regexp.MustCompile(`<p id="not-ready" class="not-ready" hidden="">`).MatchString(dom) {
		t.Errorf("the page shows the not-ready line for a ready worker:\n%.600s", attr(t, dom, `(<p id="not-ready".*?</p>)`))
	}

	shot, err := filepath.Abs(filepath.Join("testdata", "artifacts", "status-page.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(shot), 0o755); err != nil {
		t.Fatal(err)
	}
	browse(t, bin, w.URL+"/", 3*time.Second, "--screenshot="+shot, "--window-size=1280,1100", "--hide-scrollbars")
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s: %v (size %d)", shot, err, size(fi))
	}
	t.Logf("screenshot of the live page: %s", shot)
}

func attr(t *testing.T, dom, re string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)` + re).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the page's DOM has no match for %s:\n%.4000s", re, dom)
	}
	return m[1]
}

func points(t *testing.T, dom, re string) int {
	t.Helper()
	n, _ := strconv.Atoi(attr(t, dom, re))
	return n
}

func size(fi os.FileInfo) int64 {
	if fi == nil {
		return 0
	}
	return fi.Size()
}

// A worker that cannot make progress — its output topic does not exist —
// is not ready, and the page says so, naming the condition and the topic.
func TestStatusPageSaysWhyNotReady(t *testing.T) {
	bin := chromium(t)
	env := testworker.New(t, 2)
	reg := prometheus.NewRegistry()
	sampler, err := status.NewSampler(reg, status.Config{Interval: 250 * time.Millisecond, Window: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w := env.StartWorker(pipeline.Config{Group: "not-ready", OutputTopic: "nowhere"}, testworker.Options{
		Registry: reg,
		Handlers: func(pw *pipeline.Worker, adm *admin.Server) {
			sampler.SetReadiness(adm.Readiness)
			sampler.Register(adm)
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() { _ = sampler.Run(ctx) })

	deadline := time.Now().Add(30 * time.Second)
	for {
		rd := sampler.Status().Readiness
		if rd != nil && !rd.Ready && slices.ContainsFunc(rd.Conditions, func(c admin.Condition) bool {
			return c.Name == "topic_missing" && strings.Contains(c.Detail, "nowhere")
		}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/api/status's readiness never named the missing output topic: %+v", rd)
		}
		time.Sleep(100 * time.Millisecond)
	}
	dom := browse(t, bin, w.URL+"/", 2*time.Second, "--dump-dom")
	if regexp.MustCompile(`<p id="not-ready"[^>]*hidden`).MatchString(dom) {
		t.Fatalf("the not-ready line is hidden:\n%.600s", attr(t, dom, `(<p id="not-ready".*?</p>)`))
	}
	if why := attr(t, dom, `id="not-ready-why">([^<]*)<`); !strings.Contains(why, "topic_missing") || !strings.Contains(why, "nowhere") {
		t.Errorf("the page says %q, want the missing topic named", why)
	}
}
