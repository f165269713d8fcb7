package pipeline

import (
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/inference"
)

// event is one input message on its way through the worker. It is owned by
// one stage at a time; the writer's completion callback is its last owner.
type event struct {
	msg kafka.Message
	rec map[string]any // set with setRecord
	// Read from rec once, by setRecord: the emit stage and the writer's
	// completion need them for every event.
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
