package status

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Event is one retrain or model event the page lists.
type Event struct {
	Time time.Time `json:"time"`
	// Kind is model, retrain, drift, quality or refused.
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// eventLog keeps the last max events, derived from what changed between
// two samples. Drifted windows in a row for one model share one event.
type eventLog struct {
	max     int
	events  []Event // oldest first
	drifted float64 // windows counted in the last event, when it is a drift event
	model   string  // and its model
}

func (l *eventLog) add(at time.Time, kind, format string, args ...any) {
	if len(l.events) == l.max {
		l.events = slices.Delete(l.events, 0, 1)
	}
	l.events = append(l.events, Event{Time: at, Kind: kind, Text: fmt.Sprintf(format, args...)})
}

func (l *eventLog) observe(prev, s *snapshot) {
	var before []Served
	if prev != nil {
		before = prev.models
	}
	for _, m := range s.models {
		if !slices.Contains(before, m) {
			l.add(s.at, "model", "%s version %s serving%s", m.Model, m.Version, stageText(m.Stage))
		}
	}
	for _, m := range before {
		if !slices.Contains(s.models, m) {
			l.add(s.at, "model", "%s version %s no longer serving%s", m.Model, m.Version, stageText(m.Stage))
		}
	}
	if prev == nil {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(s.drifted)) {
		if d := s.drifted[k] - prev.drifted[k]; d > 0 {
			l.drift(s.at, k, d)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.retrains)) {
		if d := s.retrains[k] - prev.retrains[k]; d > 0 {
			l.add(s.at, "retrain", "%s: %s emitted", k, plural(d, "retrain request"))
		}
	}
	for _, q := range s.qualityRows() {
		k := qualityKey{q.Model, q.Version, q.Stage}
		if was := prev.quality[k]; q.Degraded && (was == nil || !was.Degraded) {
			l.add(s.at, "quality", "%s version %s (%s): live AUC %.3f fell below its holdout AUC %.3f", q.Model, q.Version, q.Stage, float64(q.AUC), float64(q.HoldoutAUC))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.refused)) {
		if d := s.refused[k] - prev.refused[k]; d > 0 {
			model, reason, _ := strings.Cut(k, " ")
			l.add(s.at, "refused", "%s: %s refused (%s)", model, plural(d, "new version"), reason)
		}
	}
}

// drift adds d drifted windows of model, to the last event when it counts
// the same model's drifted windows.
func (l *eventLog) drift(at time.Time, model string, d float64) {
	n := len(l.events)
	if n > 0 && l.events[n-1].Kind == "drift" && l.model == model {
		l.drifted += d
		l.events[n-1].Time = at
		l.events[n-1].Text = fmt.Sprintf("%s: %s drifted", model, plural(l.drifted, "drift window"))
		return
	}
	l.drifted, l.model = d, model
	l.add(at, "drift", "%s: %s drifted", model, plural(d, "drift window"))
}

func stageText(stage string) string {
	if stage == "" {
		return ""
	}
	return " (" + stage + ")"
}

func plural(n float64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%g %ss", n, what)
}
