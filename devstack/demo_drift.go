package devstack

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/schemas"
)

// driftWatch prints drift reports and retrain requests as they arrive and
// counts them for the summary.
type driftWatch struct {
	mu       sync.Mutex
	windows  int
	drifted  int
	retrains []string // one line per RetrainRequested
	retrain  chan struct{}
	promoted chan string             // versions promoted to production
	newest   string                  // version of the latest drift report
	report   chan string             // version of each drift report
	live     map[string]*LiveQuality // production quality by version
}

func watchDrift(ctx context.Context, a Addrs, out io.Writer) *driftWatch {
	w := &driftWatch{retrain: make(chan struct{}, 16), promoted: make(chan string, 16), report: make(chan string, 256),
		live: map[string]*LiveQuality{}}
	dec := schemas.NewDecoder(schemas.NewClient(a.RegistryURL, nil), 1<<20)
	for _, topic := range []string{"drift-reports", "retrain-requests", "model-events", "quality-reports"} {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: []string{a.Kafka}, Topic: topic, GroupID: fmt.Sprintf("sluice-demo-%s-%d", topic, time.Now().UnixNano()),
			StartOffset: kafka.FirstOffset, MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 50 * time.Millisecond,
		})
		go func() {
			defer r.Close()
			for {
				msg, err := r.FetchMessage(ctx)
				if err != nil {
					return
				}
				rec, _, err := dec.Decode(ctx, msg.Value)
				if err != nil {
					continue
				}
				switch topic {
				case "drift-reports":
					w.onReport(rec, out)
				case "retrain-requests":
					w.request(rec, out)
				case "quality-reports":
					w.onQuality(rec, out)
				default:
					w.modelEvent(rec, out)
				}
			}
		}()
	}
	return w
}

func (w *driftWatch) modelEvent(rec map[string]any, out io.Writer) {
	if rec["type"] == "registered" && rec["stage"] == "production" {
		return // the demo model itself, registered at start
	}
	reason, _ := rec["reason"].(string)
	fmt.Fprintf(out, "sluice demo: model event: %v %v version %v (%v) %s\n", rec["model_name"], rec["type"], rec["model_version"], rec["stage"], reason)
	if rec["type"] == "promoted" && rec["stage"] == "production" {
		w.promoted <- fmt.Sprint(rec["model_version"])
	}
}

func (w *driftWatch) onReport(rec map[string]any, out io.Writer) {
	defer func() {
		select {
		case w.report <- fmt.Sprint(rec["model_version"]):
		default:
		}
	}()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.windows++
	drifted, _ := rec["drifted"].(bool)
	state := "stationary"
	if drifted {
		w.drifted++
		state = "DRIFTED: " + strings.Join(driftedFeatures(rec), ", ")
	}
	fmt.Fprintf(out, "sluice demo: drift report, window %v (%v events, model %v/%v): %s\n",
		rec["window_seq"], rec["events"], rec["model_name"], rec["model_version"], state)
}

// onQuality adds a production quality window to its version's live
// quality, and prints the degraded ones.
func (w *driftWatch) onQuality(rec map[string]any, out io.Writer) {
	if rec["stage"] != "production" {
		return
	}
	auc, ok := rec["auc"].(float64)
	n, _ := rec["labelled"].(int64)
	if !ok || n == 0 {
		return
	}
	v := fmt.Sprint(rec["model_version"])
	w.mu.Lock()
	q := w.live[v]
	if q == nil {
		q = &LiveQuality{}
		w.live[v] = q
	}
	q.AUC = (q.AUC*float64(q.Labelled) + auc*float64(n)) / float64(q.Labelled+int(n))
	q.Labelled += int(n)
	q.Windows++
	w.mu.Unlock()
	if rec["degraded"] == true {
		fmt.Fprintf(out, "sluice demo: live quality, window %v of %v/%v: AUC %.3f on %d labelled events, below holdout %.3f: DEGRADED\n",
			rec["window_seq"], rec["model_name"], v, auc, n, rec["holdout_auc"])
	}
}

// quality returns the live quality of each version so far.
func (w *driftWatch) quality() map[string]LiveQuality {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]LiveQuality, len(w.live))
	for v, q := range w.live {
		out[v] = *q
	}
	return out
}

func (w *driftWatch) request(rec map[string]any, out io.Writer) {
	w.mu.Lock()
	kind := rec["kind"]
	if kind == nil {
		kind = "drift"
	}
	line := fmt.Sprintf("retrain requested (%v) for %v/%v: %v", kind, rec["model_name"], rec["model_version"], rec["reason"])
	if fs := driftedFeatures(rec); len(fs) > 0 {
		line += fmt.Sprintf(" (features %s)", strings.Join(fs, ", "))
	}
	if onset, ok := rec["onset"].(time.Time); ok {
		line += fmt.Sprintf(", onset %s", onset.Local().Format("15:04:05.000"))
	}
	w.retrains = append(w.retrains, line)
	w.mu.Unlock()
	fmt.Fprintf(out, "sluice demo: %s\n", line)
	w.retrain <- struct{}{}
}

func driftedFeatures(rec map[string]any) []string {
	var names []string
	fs, _ := rec["features"].([]any)
	for _, f := range fs {
		fm, _ := f.(map[string]any)
		if d, _ := fm["drifted"].(bool); d {
			names = append(names, fmt.Sprint(fm["feature"]))
		}
	}
	if p, ok := rec["prediction"].(map[string]any); ok {
		if d, _ := p["drifted"].(bool); d {
			names = append(names, "(prediction)")
		}
	}
	sort.Strings(names)
	return names
}

// wait blocks until a retrain request arrived or d passed.
func (w *driftWatch) wait(ctx context.Context, d time.Duration) bool {
	select {
	case <-w.retrain:
		return true
	case <-time.After(d):
		return false
	case <-ctx.Done():
		return false
	}
}

func (w *driftWatch) counts() (windows, drifted, retrains int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.windows, w.drifted, len(w.retrains)
}

// waitPromotedReport waits for a new production version and then for a
// drift report about it, so the demo shows the loop closing.
func (w *driftWatch) waitPromotedReport(ctx context.Context, d time.Duration, out io.Writer) {
	deadline := time.After(d)
	var version string
	select {
	case version = <-w.promoted:
	case <-deadline:
		fmt.Fprintln(out, "sluice demo: no new version was promoted in time")
		return
	case <-ctx.Done():
		return
	}
	for {
		select {
		case v := <-w.report:
			if v == version {
				return
			}
		case <-deadline:
			fmt.Fprintf(out, "sluice demo: version %s serves, but its first drift window has not closed yet\n", version)
			return
		case <-ctx.Done():
			return
		}
	}
}
