package pipeline

import "github.com/segmentio/kafka-go"

// Sink writes a worker's outputs without waiting for them: predictions,
// dead letters and shadow predictions, each message naming its topic.
// Package worker opens a producers.AsyncWriter (acks=all); the pipeline's
// own tests open one in memory. The worker owns it: Run closes it once the
// stages have drained.
type Sink interface {
	// Enqueue takes msgs and returns at once; their outcome reaches the
	// Completion the sink was opened with, each message's WriterData as
	// the worker set it. An error means none of msgs was taken: a
	// *producers.TooLargeError names a message larger than its topic
	// takes (the worker makes it fit, see oversize.go); anything else is
	// written again later (see retry.go). Called from several stages at
	// once.
	Enqueue(msgs ...kafka.Message) error
	// Close writes what is waiting and returns once every completion has
	// run. A sink that gives up on a write when it closes completes it
	// with an error wrapping producers.ErrClosed: the worker leaves its
	// record unresolved, to be fetched again.
	Close() error
}

// Completion is told the outcome of messages a Sink took: err is nil when
// the broker acknowledged all of them. It runs on the sink's goroutines
// and must not block for long.
type Completion = func(msgs []kafka.Message, err error)

// OpenSink opens a worker's Sink with the worker's Completion. New calls it
// once; the sink is built outside the pipeline (its clients, its config)
// and only learns where its completions go.
type OpenSink func(done Completion) (Sink, error)
