package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/loadgen"
	"github.com/sluice-ml/sluice/retrain"
	"github.com/sluice-ml/sluice/schemas"
)

// DemoConfig is what `sluice demo` runs.
type DemoConfig struct {
	Events int     // default 20000
	Rate   float64 // events per second (default 10000)
	Seed   int64
	Out    io.Writer // progress and summary (default stdout)
	// DriftAfter events, DriftFeatures shift by DriftShift training
	// standard deviations (no drift when DriftFeatures is empty).
	DriftAfter    int
	DriftFeatures string
	DriftShift    float64
	// ConceptAfter events, the labelling rule changes and no feature moves
	// (concept drift; negative: never).
	ConceptAfter int
}

// Summary is what the demo measured.
type Summary struct {
	EventsIn       int
	PredictionsOut int
	Unique         int
	Duplicates     int
	Lost           int
	DeadLetters    int
	P50, P99       time.Duration
	MeanBatch      float64
	Model, Version string
	Provider       string
	Elapsed        time.Duration
	Windows        int // drift windows reported
	Drifted        int // of which drifted
	Retrains       int // RetrainRequested events
	ByVersion      map[string]int
	// Quality is the live quality of each version in production, from the
	// quality reports.
	Quality map[string]LiveQuality
}

// LiveQuality is one version's live quality over the demo: its labelled
// events and their AUC, averaged over its quality windows by size.
type LiveQuality struct {
	Labelled int
	AUC      float64
	Windows  int
}

func (s Summary) String() string {
	versions := make([]string, 0, len(s.ByVersion))
	for v := range s.ByVersion {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	by := make([]string, len(versions))
	for i, v := range versions {
		by[i] = fmt.Sprintf("v%s %d", v, s.ByVersion[v])
	}
	qv := make([]string, 0, len(s.Quality))
	for _, v := range slices.Sorted(maps.Keys(s.Quality)) {
		q := s.Quality[v]
		qv = append(qv, fmt.Sprintf("v%s AUC %.3f (%d labelled)", v, q.AUC, q.Labelled))
	}
	if len(qv) == 0 {
		qv = append(qv, "none measured")
	}
	return fmt.Sprintf("events in %d, predictions out %d (lost %d, duplicates %d), end-to-end p50 %s p99 %s, mean batch %.1f, model %s on %s, predictions by version: %s; drift windows %d (%d drifted), retrain requests %d; live quality by version: %s",
		s.EventsIn, s.PredictionsOut, s.Lost, s.Duplicates, ms(s.P50), ms(s.P99), s.MeanBatch, s.Model, s.Provider, strings.Join(by, ", "), s.Windows, s.Drifted, s.Retrains, strings.Join(qv, ", "))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// Demo runs the whole loop on embedded defaults in a temporary data
// directory on free ports: it starts the stack, publishes synthetic events,
// reads every prediction back, and returns what it measured.
func Demo(ctx context.Context, dc DemoConfig, log *slog.Logger) (Summary, error) {
	if dc.Events <= 0 {
		dc.Events = 50000
	}
	if dc.Rate == 0 {
		dc.Rate = 10000
	}
	if dc.Out == nil {
		dc.Out = os.Stdout
	}
	dir, err := os.MkdirTemp("", "sluice-demo-")
	if err != nil {
		return Summary{}, err
	}
	defer os.RemoveAll(dir)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var sum Summary
	var demoErr error
	// The retrainer trains on the labelled events since the drift's onset,
	// so the new version's profile describes the drifted traffic.
	// The demo shows every drift window of a short run at a rate it sets
	// itself, so its worker bins every event (drift.max_rate -1).
	worker := defaultWorker()
	worker.Drift.MaxRate = -1
	cfg := Config{DataDir: dir, KafkaAddr: "127.0.0.1:0", RegistryAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Worker: worker,
		Retrain: retrain.Config{Policy: retrain.PolicyAuto, BufferSize: 10000, MinRows: 2000, MaxLabelWait: 20 * time.Second}}
	err = Run(ctx, cfg, log, func(a Addrs) {
		go func() {
			defer cancel()
			sum, demoErr = drive(ctx, dc, a)
		}()
	})
	if demoErr != nil {
		return sum, demoErr
	}
	if err != nil {
		return sum, err
	}
	return sum, nil
}

func drive(ctx context.Context, dc DemoConfig, a Addrs) (Summary, error) {
	sum := Summary{EventsIn: dc.Events, Model: a.Ready.Model.Name(), Version: a.Ready.Model.Version(), Provider: string(a.Ready.Model.Provider())}
	fmt.Fprintf(dc.Out, "sluice demo: broker %s, registry %s, admin %s\n", a.Kafka, a.RegistryURL, a.AdminURL)
	for !a.Ready.Worker.Ready() {
		select {
		case <-ctx.Done():
			return sum, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	var opts []demo.Option
	opt, err := loadgen.ParseDrift(dc.DriftAfter, dc.DriftFeatures, dc.DriftShift)
	if err != nil {
		return sum, err
	}
	if opt != nil {
		opts = append(opts, opt)
	}
	concept := loadgen.ParseConcept(dc.ConceptAfter)
	if concept != nil {
		opts = append(opts, concept)
	}
	loop := opt != nil || concept != nil
	watch := watchDrift(ctx, a, dc.Out)
	fmt.Fprintf(dc.Out, "sluice demo: publishing %d events at %.0f/s to features", dc.Events, dc.Rate)
	if opt != nil {
		fmt.Fprintf(dc.Out, "; after %d of them, %s drift by %.1f training standard deviations", dc.DriftAfter, dc.DriftFeatures, dc.DriftShift)
	}
	if concept != nil {
		fmt.Fprintf(dc.Out, "; after %d of them, the labelling rule changes (no feature moves)", dc.ConceptAfter)
	}
	fmt.Fprintln(dc.Out, " ...")
	start := time.Now()
	got := make(chan Summary, 1)
	errc := make(chan error, 2)
	go func() {
		s, err := collect(ctx, a, dc.Events)
		if err != nil {
			errc <- err
			return
		}
		got <- s
	}()
	if _, err := loadgen.Run(ctx, loadgen.Config{
		Brokers: []string{a.Kafka}, RegistryURL: a.RegistryURL, Topic: "features",
		Count: dc.Events, Rate: dc.Rate, Seed: dc.Seed, Options: opts, Labels: true,
	}); err != nil {
		return sum, err
	}
	select {
	case s := <-got:
		s.EventsIn, s.Model, s.Version, s.Provider = sum.EventsIn, sum.Model, sum.Version, sum.Provider
		s.Elapsed = time.Since(start)
		s.Lost = s.EventsIn - s.Unique
		s.MeanBatch = meanBatch(a)
		if loop && !watch.wait(ctx, 20*time.Second) {
			fmt.Fprintln(dc.Out, "sluice demo: no retrain request within 20s of the last prediction")
		}
		if loop {
			watch.waitPromotedReport(ctx, 30*time.Second, dc.Out)
		}
		time.Sleep(200 * time.Millisecond) // let the last reports print
		s.Windows, s.Drifted, s.Retrains = watch.counts()
		s.Quality = watch.quality()
		return s, nil
	case err := <-errc:
		return sum, err
	case <-ctx.Done():
		return sum, ctx.Err()
	}
}

// collect reads predictions until every one of n events has one (or 60 s
// pass without progress).
func collect(ctx context.Context, a Addrs, n int) (Summary, error) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{a.Kafka}, Topic: "predictions", GroupID: fmt.Sprintf("sluice-demo-%d", time.Now().UnixNano()),
		StartOffset: kafka.FirstOffset, MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 20 * time.Millisecond,
	})
	defer r.Close()
	dec := schemas.NewDecoder(schemas.NewClient(a.RegistryURL, nil), 1<<20)
	seen := make(map[string]int, n)
	var lat []time.Duration
	var s Summary
	for len(seen) < n {
		fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		msg, err := r.FetchMessage(fctx)
		cancel()
		if err != nil {
			return s, fmt.Errorf("reading predictions (%d of %d so far): %w", len(seen), n, err)
		}
		rec, _, err := dec.Decode(ctx, msg.Value)
		if err != nil {
			return s, fmt.Errorf("decoding a prediction: %w", err)
		}
		s.PredictionsOut++
		if s.ByVersion == nil {
			s.ByVersion = map[string]int{}
		}
		s.ByVersion[fmt.Sprint(rec["model_version"])]++
		id, _ := rec["event_id"].(string)
		seen[id]++
		// The prediction's record timestamp is when the worker wrote it.
		if t, ok := rec["event_time"].(time.Time); ok {
			lat = append(lat, msg.Time.Sub(t))
		}
	}
	s.Unique = len(seen)
	s.Duplicates = s.PredictionsOut - s.Unique
	slices.Sort(lat)
	if len(lat) > 0 {
		s.P50 = lat[len(lat)*50/100]
		s.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return s, nil
}

func meanBatch(a Addrs) float64 {
	mfs, err := a.Ready.Registry.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() == "sluice_batch_size" && mf.GetType() == dto.MetricType_HISTOGRAM && len(mf.GetMetric()) > 0 {
			h := mf.GetMetric()[0].GetHistogram()
			if h.GetSampleCount() > 0 {
				return h.GetSampleSum() / float64(h.GetSampleCount())
			}
		}
	}
	return 0
}
