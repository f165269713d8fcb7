package status

import (
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// hist is one histogram at one instant: cumulative bucket counts by upper
// bound (the +Inf bucket is count).
type hist struct {
	upper []float64
	cum   []float64
	count float64
	sum   float64
}

// Served is one model version in service, by stage. The registry's
// sluice_model_version_info{stage} names them when the worker follows the
// registry; otherwise the worker's sluice_model_info does, with Stage "".
type Served struct {
	Model   string `json:"model"`
	Version string `json:"version"`
	Stage   string `json:"stage"`
}

// Held is a version the registry assigns to a stage that this worker does
// not serve: State "refused" (Reason is the check it failed: schema,
// signature, corrupt, ...) or "waiting" (for the input schema; Reason
// input_schema). The registry's sluice_model_held_info names them;
// `sluice models show MODEL` prints the whole reason.
type Held struct {
	Model   string `json:"model"`
	Version string `json:"version"`
	Stage   string `json:"stage"`
	State   string `json:"state"`
	Reason  string `json:"reason"`
}

// driftKey names one drift score series.
type driftKey struct {
	Model, Feature, Test string
}

// snapshot is what one gather said, reduced to what the page shows.
type snapshot struct {
	at          time.Time
	consumed    float64
	produced    float64
	deadLetters map[string]float64 // by reason
	endToEnd    hist
	inference   hist
	batch       hist
	lag         float64
	hasLag      bool
	inFlight    float64
	queues      map[string]float64 // by stage
	models      []Served           // sorted; the registry's per-stage series when there are any
	workerModel []Served           // sluice_model_info: the version the worker started with
	held        []Held             // sorted
	provider    string
	drift       map[driftKey]float64
	windows     float64            // drift windows closed, all models
	drifted     map[string]float64 // drifted windows by model
	retrains    map[string]float64 // by model
	refused     map[string]float64 // "model reason"
	quality     map[qualityKey]*Quality
	routes      map[string]*routeSnap // by the route label
}

// routeSnap is one route's counters and gauges at one instant.
type routeSnap struct {
	consumed, produced, deadLetters, lag, inFlight float64
}

// route returns the snapshot of m's route, or nil for a series without
// one (a process's own writer counts under route="").
func (s *snapshot) route(m *dto.Metric) *routeSnap {
	name := label(m, "route")
	if name == "" {
		return nil
	}
	r := s.routes[name]
	if r == nil {
		r = &routeSnap{}
		s.routes[name] = r
	}
	return r
}

// read reduces gathered families to a snapshot taken at at.
func read(at time.Time, fams []*dto.MetricFamily) *snapshot {
	s := &snapshot{at: at, deadLetters: map[string]float64{}, queues: map[string]float64{},
		drift: map[driftKey]float64{}, drifted: map[string]float64{}, retrains: map[string]float64{},
		refused: map[string]float64{}, quality: map[qualityKey]*Quality{}, routes: map[string]*routeSnap{}}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			s.add(f.GetName(), m)
		}
	}
	if len(s.models) == 0 {
		s.models = s.workerModel
	}
	s.workerModel = nil
	slices.SortFunc(s.held, func(a, b Held) int {
		return strings.Compare(a.Model+"\x00"+a.Stage+"\x00"+a.Version, b.Model+"\x00"+b.Stage+"\x00"+b.Version)
	})
	slices.SortFunc(s.models, func(a, b Served) int {
		return strings.Compare(a.Model+"\x00"+a.Stage+"\x00"+a.Version, b.Model+"\x00"+b.Stage+"\x00"+b.Version)
	})
	return s
}

// add adds one series; the series of several routes (and of several
// models' inference) add up.
func (s *snapshot) add(name string, m *dto.Metric) {
	r := s.route(m)
	if r == nil {
		r = &routeSnap{} // counted in the totals only
	}
	switch name {
	case mConsumed:
		s.consumed += value(m)
		r.consumed += value(m)
	case mPredictions:
		s.produced += value(m)
		r.produced += value(m)
	case mDeadLetters:
		s.deadLetters[label(m, "reason")] += value(m)
		r.deadLetters += value(m)
	case mEndToEnd:
		s.endToEnd = s.endToEnd.plus(histOf(m))
	case mInference:
		s.inference = s.inference.plus(histOf(m))
	case mBatchSize:
		s.batch = s.batch.plus(histOf(m))
	case mLag:
		s.lag, s.hasLag = s.lag+value(m), true
		r.lag += value(m)
	case mInFlight:
		s.inFlight += value(m)
		r.inFlight += value(m)
	case mQueueDepth:
		s.queues[label(m, "stage")] += value(m)
	case mVersionInfo:
		if value(m) == 1 {
			s.models = append(s.models, Served{Model: label(m, "model"), Version: label(m, "version"), Stage: label(m, "stage")})
		}
	case mHeld:
		if value(m) == 1 {
			s.held = append(s.held, Held{Model: label(m, "model"), Version: label(m, "version"), Stage: label(m, "stage"),
				State: label(m, "state"), Reason: label(m, "reason")})
		}
	case mModelInfo:
		if value(m) == 1 {
			s.workerModel = append(s.workerModel, Served{Model: label(m, "model"), Version: label(m, "version")})
		}
	case mProvider:
		if value(m) == 1 {
			s.provider = label(m, "effective")
		}
	case mDriftScore:
		s.drift[driftKey{label(m, "model"), label(m, "feature"), label(m, "test")}] = value(m)
	case mWindows:
		s.windows += value(m)
		if label(m, "drifted") == "true" {
			s.drifted[label(m, "model")] += value(m)
		}
	case mRetrains:
		s.retrains[label(m, "model")] += value(m)
	case mRefused:
		s.refused[label(m, "model")+" "+label(m, "reason")] += value(m)
	case mQualityLabelled, mQualityAUC, mQualityLogLoss, mQualityAccuracy, mQualityCalibration,
		mQualityMAE, mQualityRMSE, mQualityHoldout, mQualityDegraded:
		q := s.qualityRow(qualityKey{label(m, "model"), label(m, "version"), label(m, "stage")})
		v := Num(value(m))
		switch name {
		case mQualityLabelled:
			q.Labelled = v
		case mQualityAUC:
			q.AUC = v
		case mQualityLogLoss:
			q.LogLoss = v
		case mQualityAccuracy:
			q.Accuracy = v
		case mQualityCalibration:
			q.Calibration = v
		case mQualityMAE:
			q.MAE = v
		case mQualityRMSE:
			q.RMSE = v
		case mQualityHoldout:
			q.HoldoutAUC = v
		case mQualityDegraded:
			q.Degraded = v == 1
		}
	}
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// plus adds o's counts to h's: two series of one histogram (two routes')
// have the same buckets.
func (h hist) plus(o hist) hist {
	if h.count == 0 && len(h.upper) == 0 {
		return o
	}
	if !slices.Equal(h.upper, o.upper) {
		return h // not the same layout: keep the first
	}
	out := hist{upper: h.upper, cum: make([]float64, len(h.cum)), count: h.count + o.count, sum: h.sum + o.sum}
	for i := range h.cum {
		out.cum[i] = h.cum[i] + o.cum[i]
	}
	return out
}

func histOf(m *dto.Metric) hist {
	h := m.GetHistogram()
	if h == nil {
		return hist{}
	}
	out := hist{count: float64(h.GetSampleCount()), sum: h.GetSampleSum(),
		upper: make([]float64, 0, len(h.GetBucket())), cum: make([]float64, 0, len(h.GetBucket()))}
	for _, b := range h.GetBucket() {
		out.upper = append(out.upper, b.GetUpperBound())
		out.cum = append(out.cum, float64(b.GetCumulativeCount()))
	}
	return out
}
