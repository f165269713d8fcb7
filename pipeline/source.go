package pipeline

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"
)

// Source is where a worker's events come from and where it says what
// became of each: package worker builds one on a consumer group (a
// consumers.Reader and its Tracker); the pipeline's own tests use one in
// memory. The worker owns it once New returns: Run ends its committer and,
// when it is an io.Closer, closes it last.
type Source interface {
	Fetcher
	Resolver
	Committer
}

// Fetcher hands out fetched records.
type Fetcher interface {
	// Next returns the next fetched record. It blocks while the source
	// holds as many unresolved records as it allows (the in-flight cap),
	// returns ctx.Err() once ctx ends and an error wrapping
	// consumers.ErrClosed once the source is closed; any other error is
	// transient and the fetch stage calls Next again after a backoff. Only
	// the fetch stage calls it.
	Next(ctx context.Context) (kafka.Message, error)
}

// Resolver is told what became of fetched records.
type Resolver interface {
	// Ack says that msgs are resolved: their outputs (a prediction or a
	// dead letter) were acknowledged. It is called from the sink's
	// completions, from any goroutine.
	Ack(msgs ...kafka.Message)
	// Pending reports whether msg still waits here for its output: false
	// once it was acknowledged, or when its partition moved to another
	// member or started over (writing its output no longer matters here).
	// Safe for concurrent use.
	Pending(msg kafka.Message) bool
}

// Committer commits the positions of resolved records.
type Committer interface {
	// RunCommitter commits every interval (sooner when the source wants
	// to) until ctx ends, then once more, and returns. The worker runs it
	// for the whole of Run and ends it once the sink has flushed, so the
	// last commit covers every acknowledged output.
	RunCommitter(ctx context.Context, every time.Duration) error
}

// Pauser is implemented by a Source that can stop fetching one partition.
// The worker pauses an input partition while one of its outputs cannot be
// written (see retry.go), so that the other partitions keep the in-flight
// room, and resumes it once the output is written or no longer pending.
type Pauser interface {
	Pause(topic string, partition int)
	Resume(topic string, partition int)
}

// SourceHealth is implemented by a Source that knows reasons of its own why
// the worker cannot make progress (not a member of its group, a topic
// missing, no broker answering, commits stalled); NotReady lists them
// beside the worker's. Safe for concurrent use.
type SourceHealth interface {
	NotReady() []Condition
}
