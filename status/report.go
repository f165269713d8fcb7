package status

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/sluice-ml/sluice/admin"
)

// Num is a number that encodes as JSON null when it is NaN or infinite
// (nothing measured yet).
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// Status is what GET /api/status answers: the latest numbers over the
// sliding window, the charts' history, drift and events.
type Status struct {
	Time          time.Time `json:"time"`
	WindowSeconds float64   `json:"window_seconds"`
	// Throughput is events/s consumed (in) and predictions/s acknowledged
	// (out) over the window; the totals are the counters.
	Throughput struct {
		In       Num     `json:"in"`
		Out      Num     `json:"out"`
		InTotal  float64 `json:"in_total"`
		OutTotal float64 `json:"out_total"`
	} `json:"throughput"`
	// Latency percentiles in seconds over the window: end to end
	// (event_time to acknowledgement) and per inference batch.
	Latency struct {
		P50          Num `json:"p50"`
		P99          Num `json:"p99"`
		InferenceP50 Num `json:"inference_p50"`
		InferenceP99 Num `json:"inference_p99"`
	} `json:"latency"`
	BatchSizeMean Num                `json:"batch_size_mean"`
	Lag           Num                `json:"lag"`
	InFlight      Num                `json:"in_flight"`
	Queues        map[string]float64 `json:"queues"`
	DeadLetters   []DeadLetters      `json:"dead_letters"`
	// Models lists the versions in service, with their stage where the
	// registry names one (production, canary, shadow).
	Models []Served `json:"models"`
	// Held lists the versions the registry assigns that this worker does
	// not serve (a refused promotion, or one waiting for the input
	// schema): what the registry says beside what Models says is served.
	Held     []Held `json:"held"`
	Provider string `json:"provider"`
	// Series is the history the throughput and latency charts draw: one
	// point per sample, each over the window ending there.
	Series struct {
		T   []int64 `json:"t"` // unix milliseconds
		In  []Num   `json:"in"`
		Out []Num   `json:"out"`
		P50 []Num   `json:"p50"`
		P99 []Num   `json:"p99"`
	} `json:"series"`
	Drift []DriftSeries `json:"drift"`
	// Quality is the live quality of each version in service, from labels
	// (empty until the quality service has closed a window).
	Quality []Quality `json:"quality"`
	Events  []Event   `json:"events"` // newest first
	// Routes are each route's figures, by name (the route label of the
	// worker's series), when the process serves routes.
	Routes []Route `json:"routes"`
	// Readiness is what /readyz answers now (absent where the sampler was
	// given no readiness): ready, or the conditions that hold the worker
	// back, each naming its route where there are routes.
	Readiness *Readiness `json:"readiness,omitempty"`
}

// Readiness is the worker's readiness as the status page shows it.
type Readiness struct {
	Ready      bool              `json:"ready"`
	Conditions []admin.Condition `json:"conditions"`
}

// Route is one route's throughput over the window, totals, dead letters,
// lag and events in flight.
type Route struct {
	Name        string  `json:"name"`
	In          Num     `json:"in"`
	Out         Num     `json:"out"`
	InTotal     float64 `json:"in_total"`
	OutTotal    float64 `json:"out_total"`
	DeadLetters float64 `json:"dead_letters"`
	Lag         Num     `json:"lag"`
	InFlight    Num     `json:"in_flight"`
}

// DeadLetters is one reason's dead letters: total and per second over the
// window.
type DeadLetters struct {
	Reason string  `json:"reason"`
	Total  float64 `json:"total"`
	Rate   Num     `json:"rate"`
}

// windowed is what the window from a to b says.
type windowed struct {
	in, out, p50, p99, ip50, ip99, batch float64
}

func over(a, b *snapshot) windowed {
	e2e, inf, bat := delta(a.endToEnd, b.endToEnd), delta(a.inference, b.inference), delta(a.batch, b.batch)
	return windowed{
		in: rate(a.consumed, b.consumed, a.at, b.at), out: rate(a.produced, b.produced, a.at, b.at),
		p50: quantile(0.5, e2e), p99: quantile(0.99, e2e),
		ip50: quantile(0.5, inf), ip99: quantile(0.99, inf),
		batch: mean(bat),
	}
}

// Status returns the page's numbers as of the latest sample. With fewer
// than two samples the rates and percentiles are null.
func (s *Sampler) Status() Status {
	var rd *Readiness
	if s.readiness != nil { // outside the lock: it asks the worker
		ready, conds := s.readiness()
		rd = &Readiness{Ready: ready, Conditions: append([]admin.Condition{}, conds...)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var st Status
	st.Readiness = rd
	st.WindowSeconds = s.cfg.Window.Seconds()
	st.Queues = map[string]float64{}
	st.DeadLetters, st.Models, st.Events, st.Quality, st.Held, st.Routes = []DeadLetters{}, []Served{}, []Event{}, []Quality{}, []Held{}, []Route{}
	st.Series.T, st.Series.In, st.Series.Out, st.Series.P50, st.Series.P99 = []int64{}, []Num{}, []Num{}, []Num{}, []Num{}
	nan := Num(math.NaN())
	st.Throughput.In, st.Throughput.Out, st.BatchSizeMean, st.Lag, st.InFlight = nan, nan, nan, nan, nan
	st.Latency.P50, st.Latency.P99, st.Latency.InferenceP50, st.Latency.InferenceP99 = nan, nan, nan, nan
	n := len(s.samples)
	if n == 0 {
		return st
	}
	last := s.samples[n-1]
	st.Time = last.at
	st.Throughput.InTotal, st.Throughput.OutTotal = last.consumed, last.produced
	if last.hasLag {
		st.Lag = Num(last.lag)
	}
	st.InFlight = Num(last.inFlight)
	maps.Copy(st.Queues, last.queues)
	st.Models = append(st.Models, last.models...)
	st.Held = append(st.Held, last.held...)
	st.Quality = append(st.Quality, last.qualityRows()...)
	st.Provider = last.provider
	j := 0 // first sample inside the window ending at sample k
	for k := 1; k < n; k++ {
		for s.samples[k].at.Sub(s.samples[j].at) > s.cfg.Window {
			j++
		}
		if j == k {
			continue
		}
		w := over(s.samples[j], s.samples[k])
		st.Series.T = append(st.Series.T, s.samples[k].at.UnixMilli())
		st.Series.In = append(st.Series.In, Num(w.in))
		st.Series.Out = append(st.Series.Out, Num(w.out))
		st.Series.P50 = append(st.Series.P50, Num(w.p50))
		st.Series.P99 = append(st.Series.P99, Num(w.p99))
		if k == n-1 {
			st.Throughput.In, st.Throughput.Out = Num(w.in), Num(w.out)
			st.Latency.P50, st.Latency.P99 = Num(w.p50), Num(w.p99)
			st.Latency.InferenceP50, st.Latency.InferenceP99 = Num(w.ip50), Num(w.ip99)
			st.BatchSizeMean = Num(w.batch)
		}
	}
	first := s.samples[j]
	for _, r := range slices.Sorted(maps.Keys(last.deadLetters)) {
		if total := last.deadLetters[r]; total > 0 {
			dl := DeadLetters{Reason: r, Total: total, Rate: nan}
			if first != last {
				dl.Rate = Num(rate(first.deadLetters[r], total, first.at, last.at))
			}
			st.DeadLetters = append(st.DeadLetters, dl)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(last.routes)) {
		r := last.routes[name]
		rt := Route{Name: name, In: nan, Out: nan, InTotal: r.consumed, OutTotal: r.produced, DeadLetters: r.deadLetters,
			Lag: Num(r.lag), InFlight: Num(r.inFlight)}
		if f := first.routes[name]; f != nil && first != last {
			rt.In, rt.Out = Num(rate(f.consumed, r.consumed, first.at, last.at)), Num(rate(f.produced, r.produced, first.at, last.at))
		}
		st.Routes = append(st.Routes, rt)
	}
	st.Drift = s.drift.series()
	if st.Drift == nil {
		st.Drift = []DriftSeries{}
	}
	for i := len(s.events.events) - 1; i >= 0; i-- {
		st.Events = append(st.Events, s.events.events[i])
	}
	return st
}
