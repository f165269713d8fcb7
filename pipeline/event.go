package pipeline

import (
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/schemas"
)

// event is one input message on its way through the worker. It is owned by
// one stage at a time; the writer's completion callback is its last owner.
type event struct {
	msg    kafka.Message
	fields schemas.Fields // the decoded record, set by setFields (nil Names: see rec)
	rec    map[string]any // the record as a map: set by setRecord, or built from fields by record()
	// Read from the record once, at decode: the emit stage and the
	// writer's completion need them for every event.
	eventID, entityID string
	evTime            time.Time
	sig               *inference.Signature // signature row was mapped with
	row               []float32
	fetched           time.Time

	// reply is set for a synchronous request (Predict): the event is
	// answered there instead of being produced or dead-lettered.
	reply chan<- *event

	// Set when the event is dead-lettered instead of predicted.
	dlqClass string
	dlqErr   error

	// Set by inference.
	scores     []float32
	model      *inference.Model
	inferStart time.Time
	inferTook  time.Duration
	batchSize  int
	shadow     *shadowResult // set when a shadow version also scored it
	score      float32       // the output's score, for the drift Observer
}

// setRecord sets the decoded record and the fields read from it.
func (e *event) setRecord(rec map[string]any) {
	e.rec = rec
	e.eventID, _ = rec["event_id"].(string)
	e.entityID, _ = rec["entity_id"].(string)
	e.evTime, _ = rec["event_time"].(time.Time)
}

// setFields sets the decoded record as fields, and the fields read from it
// at the positions p found in its schema.
func (e *event) setFields(f schemas.Fields, p *fieldPlan) {
	e.fields, e.rec = f, nil
	at := func(i int) any {
		if i < 0 {
			return nil
		}
		return f.Values[i]
	}
	e.eventID, _ = at(p.id).(string)
	e.entityID, _ = at(p.entity).(string)
	e.evTime, _ = at(p.time).(time.Time)
}

// record returns the record as a map, building it from fields the first
// time. Only the stage that owns the event may call it.
func (e *event) record() map[string]any {
	if e.rec == nil && e.fields.Names != nil {
		e.rec = e.fields.Map()
	}
	return e.rec
}

// fieldPlan is where one writer schema keeps the fields the worker reads,
// for the model signature it was made for. Each decode goroutine keeps
// its own, by schema id.
type fieldPlan struct {
	sig              *inference.Signature
	pos              []int // sig.Positions of the schema's names
	id, entity, time int   // event_id, entity_id, event_time (-1: absent)
}

func newFieldPlan(names []string, sig *inference.Signature) *fieldPlan {
	p := &fieldPlan{sig: sig, pos: sig.Positions(names), id: -1, entity: -1, time: -1}
	for i, n := range names {
		switch n {
		case "event_id":
			p.id = i
		case "entity_id":
			p.entity = i
		case "event_time":
			p.time = i
		}
	}
	return p
}
