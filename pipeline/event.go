package pipeline

import (
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/inference"
)

// event is one input message on its way through the worker. It is owned by
// one stage at a time; the writer's completion callback is its last owner.
type event struct {
	msg     kafka.Message
	rec     map[string]any
	sig     *inference.Signature // signature row was mapped with
	row     []float32
	fetched time.Time

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

func (e *event) eventTime() time.Time {
	if t, ok := e.rec["event_time"].(time.Time); ok {
		return t
	}
	return time.Time{}
}

func (e *event) stringField(name string) string {
	s, _ := e.rec[name].(string)
	return s
}
