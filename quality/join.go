package quality

import (
	"time"
)

// prediction is what the join keeps of one Prediction record.
type prediction struct {
	eventID, model, version string
	// out is the class probabilities in the order of classes, or one score.
	out     []float32
	classes []string
	// at is the event's time (its event_time, else when it was read).
	at time.Time
}

// parsePrediction reads a decoded Prediction record: event_id, model_name,
// model_version, scores (or score) and classes are read by name, so
// fields added to the schema are ignored. ok is false when a field the
// join needs is missing.
func parsePrediction(rec map[string]any, now time.Time) (p prediction, ok bool) {
	p.eventID, _ = rec["event_id"].(string)
	p.model, _ = rec["model_name"].(string)
	p.version, _ = rec["model_version"].(string)
	if p.eventID == "" || p.model == "" || p.version == "" {
		return p, false
	}
	switch scores := rec["scores"].(type) {
	case []float32: // how schemas.Decoder reads an array of floats
		p.out = scores
	case []any:
		p.out = make([]float32, 0, len(scores))
		for _, v := range scores {
			f, ok := v.(float32)
			if !ok {
				return p, false
			}
			p.out = append(p.out, f)
		}
	}
	if classes, ok := rec["classes"].([]any); ok {
		for _, v := range classes {
			s, _ := v.(string)
			p.classes = append(p.classes, s)
		}
	}
	if len(p.classes) == 0 {
		score, ok := rec["score"].(float32)
		if !ok {
			return p, false
		}
		p.out = []float32{score}
	} else if len(p.out) != len(p.classes) {
		return p, false
	}
	p.at, _ = rec["event_time"].(time.Time)
	if p.at.IsZero() {
		p.at = now
	}
	return p, true
}

// entry is an event's predictions waiting for its label: the one on the
// main topic (production or canary) and the shadow's.
type entry struct {
	main, shadow *prediction
	added        time.Time
}

// waiting is a label that came before its event's prediction.
type waiting struct {
	label   Label
	arrived time.Time
}

// fifo is a queue of event ids in arrival order, for expiry.
type fifo struct {
	ids  []string
	head int
}

func (f *fifo) push(id string) { f.ids = append(f.ids, id) }

func (f *fifo) peek() (string, bool) {
	if f.head >= len(f.ids) {
		return "", false
	}
	return f.ids[f.head], true
}

func (f *fifo) pop() {
	f.ids[f.head] = ""
	f.head++
	if f.head > 1024 && f.head*2 > len(f.ids) {
		f.ids = append(f.ids[:0], f.ids[f.head:]...)
		f.head = 0
	}
}

// joiner pairs predictions and labels by event id, holding each side for
// the other within bounds. Only the service's loop uses it.
type joiner struct {
	cfg     *Config
	preds   map[string]*entry
	predQ   fifo
	labels  map[string]waiting
	labelQ  fifo
	expired int // labels that waited in vain, since the last call of unmatched
}

func newJoiner(cfg *Config) *joiner {
	return &joiner{cfg: cfg, preds: map[string]*entry{}, labels: map[string]waiting{}}
}

// prediction holds p; if its label is waiting, it returns the label and
// the entry, taken out of the join.
func (j *joiner) prediction(p *prediction, shadow bool, now time.Time) (*entry, Label, bool) {
	e := j.preds[p.eventID]
	if e == nil {
		e = &entry{added: now}
		j.preds[p.eventID] = e
		j.predQ.push(p.eventID)
	}
	if shadow {
		if e.shadow == nil {
			e.shadow = p
		}
	} else if e.main == nil {
		e.main = p
	}
	if w, ok := j.labels[p.eventID]; ok {
		delete(j.labels, p.eventID)
		delete(j.preds, p.eventID)
		return e, w.label, true
	}
	return nil, Label{}, false
}

// label returns the predictions of l's event, taken out of the join, or
// holds l for label_wait.
func (j *joiner) label(l Label, now time.Time) (*entry, bool) {
	if e, ok := j.preds[l.EventID]; ok {
		delete(j.preds, l.EventID)
		return e, true
	}
	if _, ok := j.labels[l.EventID]; !ok {
		j.labelQ.push(l.EventID)
	}
	j.labels[l.EventID] = waiting{label: l, arrived: now}
	return nil, false
}

// expire drops the predictions older than prediction_ttl or beyond
// max_pending, and the labels that waited label_wait or beyond
// max_pending; it returns how many labels went unmatched.
func (j *joiner) expire(now time.Time) (unmatched int) {
	for {
		id, ok := j.predQ.peek()
		if !ok {
			break
		}
		e, held := j.preds[id]
		if held && len(j.preds) <= j.cfg.MaxPending && now.Sub(e.added) < j.cfg.PredictionTTL {
			break
		}
		j.predQ.pop()
		if held && (len(j.preds) > j.cfg.MaxPending || now.Sub(e.added) >= j.cfg.PredictionTTL) {
			delete(j.preds, id)
		}
	}
	for {
		id, ok := j.labelQ.peek()
		if !ok {
			break
		}
		w, held := j.labels[id]
		if held && len(j.labels) <= j.cfg.MaxPending && now.Sub(w.arrived) < j.cfg.LabelWait {
			break
		}
		j.labelQ.pop()
		if held {
			delete(j.labels, id)
			unmatched++
		}
	}
	return unmatched
}
