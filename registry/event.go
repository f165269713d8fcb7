package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"math"
	"time"
)

// EventType says what happened to a model.
type EventType string

// Event types; they are the symbols of ModelEvent.type.
const (
	EventRegistered EventType = "registered"
	EventPromoted   EventType = "promoted"
	EventRolledBack EventType = "rolled_back"
	EventRefused    EventType = "refused"
	// EventSkipped: a retrain request registered no version (too few
	// labelled events since the onset, a model that cannot be retrained);
	// Reason says why.
	EventSkipped EventType = "skipped"
	// EventEvaluated: a live comparison of a canary or shadow version with
	// production decided to change nothing; Reason and Evidence say why.
	EventEvaluated EventType = "evaluated"
)

// Event is one change to a model, or one worker refusing a version. It is
// published as JSON on Channel(model) and handed to the Emitter. It is
// plain data.
type Event struct {
	ID       string    `json:"id"`
	Type     EventType `json:"type"`
	Model    string    `json:"model"`
	Version  string    `json:"version"`
	Stage    Stage     `json:"stage"`
	Previous string    `json:"previous,omitempty"`
	// Percent is the canary's share of keys or the shadow's share of
	// events, in percent; 0 otherwise.
	Percent float64 `json:"percent,omitempty"`
	SHA256  string  `json:"sha256,omitempty"`
	Reason  string  `json:"reason,omitempty"`
	Worker  string  `json:"worker,omitempty"`
	// Request is the retrain request the change answers, if any.
	Request string `json:"request,omitempty"`
	// Evidence are the numbers a decision was taken on (holdout and live
	// metrics, sample sizes, confidence bounds); a registered version's
	// are its metrics.
	Evidence map[string]float64 `json:"evidence,omitempty"`
	Time     time.Time          `json:"time"`
}

// Emitter sends model events beyond Redis; the worker's implementation
// writes them as Avro ModelEvents (ModelEventSchema, Event.Native) to the
// model-events topic, keyed by model name. The registry calls Emit after a
// change has been committed, and a Watcher when it refuses a version; an
// error is logged and does not undo the change. Implementations must be
// safe for concurrent use.
type Emitter interface {
	Emit(ctx context.Context, ev Event) error
}

// ModelEventsTopic is the topic ModelEvents go to.
const ModelEventsTopic = "model-events"

// Native returns ev as a goavro native map for ModelEventSchema. It is
// safe for concurrent use.
func (ev Event) Native() map[string]any {
	return map[string]any{
		"event_id":         ev.ID,
		"type":             string(ev.Type),
		"model_name":       ev.Model,
		"model_version":    ev.Version,
		"stage":            string(ev.Stage),
		"previous_version": optional("string", ev.Previous, ev.Previous != ""),
		"traffic_percent":  optional("double", ev.Percent, ev.Percent != 0),
		"sha256":           optional("string", ev.SHA256, ev.SHA256 != ""),
		"reason":           optional("string", ev.Reason, ev.Reason != ""),
		"worker_id":        optional("string", ev.Worker, ev.Worker != ""),
		"event_time":       ev.Time,
		"request_id":       optional("string", ev.Request, ev.Request != ""),
		"evidence":         optional("map", evidence(ev.Evidence), len(ev.Evidence) > 0),
	}
}

// optional is an Avro ["null", typ] union value in goavro's native form.
func optional(typ string, v any, set bool) any {
	if !set {
		return nil
	}
	return map[string]any{typ: v}
}

// evidence is m as a goavro map of doubles, without the values JSON and
// Avro readers cannot take (NaN, infinities).
func evidence(m map[string]float64) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[k] = v
		}
	}
	return out
}

// newEvent fills the id and time.
func newEvent(t EventType, model, version string, stage Stage) Event {
	var id [16]byte
	_, _ = rand.Read(id[:])
	return Event{
		ID: hex.EncodeToString(id[:]), Type: t, Model: model, Version: version,
		Stage: stage, Time: time.Now().UTC().Truncate(time.Millisecond),
	}
}
