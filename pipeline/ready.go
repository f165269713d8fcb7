package pipeline

import (
	"fmt"
	"time"
)

// Condition is one reason a worker cannot make progress now. Name is one
// of the fixed names below; Detail says what and where.
type Condition struct {
	Name   string `json:"condition"`
	Detail string `json:"detail"`
}

// The conditions NotReady reports: the worker's own, and those a Source
// with SourceHealth reports (not_joined, topic_missing,
// broker_unreachable, stalled).
const (
	CondNotRunning        = "not_running"        // Run has not started, or is draining
	CondModelNotLoaded    = "model_not_loaded"   // no model version to score with
	CondNotJoined         = "not_joined"         // not a member of a current generation of the group
	CondTopicMissing      = "topic_missing"      // the input, output or dead-letter topic does not exist
	CondBrokerUnreachable = "broker_unreachable" // no broker answered for longer than readiness.broker_timeout
	CondStalled           = "stalled"            // events in flight, no commit progress for longer than readiness.stall_timeout
	CondPartitionStuck    = "partition_stuck"    // an output cannot be written; the partition is paused
)

// NotReady returns every reason the worker cannot make progress now; none
// when it can. The admin server's /readyz answers 503 with them. Safe for
// concurrent use.
func (w *Worker) NotReady() []Condition {
	var out []Condition
	add := func(name, format string, args ...any) {
		out = append(out, Condition{Name: name, Detail: fmt.Sprintf(format, args...)})
	}
	w.syncMu.RLock()
	serving := w.serving
	w.syncMu.RUnlock()
	if !serving {
		add(CondNotRunning, "the worker is not running")
	}
	if m, release := w.deps.Models.Acquire(); m == nil {
		release()
		add(CondModelNotLoaded, "no model version is loaded")
	} else {
		release()
	}
	if h, ok := w.source.(SourceHealth); ok {
		out = append(out, h.NotReady()...)
	}
	for _, s := range w.Stuck() {
		add(CondPartitionStuck, "%s/%d stuck at offset %d since %s: writing to %s: %v",
			s.Topic, s.Partition, s.Offset, s.Since.Format(time.RFC3339), s.Output, s.Err)
	}
	return out
}

// Ready reports whether the worker can make progress: running, a model
// loaded, no partition stuck and its source healthy (a member of its
// group, its topics there, the brokers answering, commits moving; see
// NotReady). Safe for concurrent use.
func (w *Worker) Ready() bool { return len(w.NotReady()) == 0 }
