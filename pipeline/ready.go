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

// The conditions NotReady reports.
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
	serving, started := w.serving, w.started
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
	h := w.reader.Health()
	if !h.Joined {
		if h.JoinError != nil {
			add(CondNotJoined, "not a member of consumer group %s: %v", w.cfg.Group, h.JoinError)
		} else {
			add(CondNotJoined, "not a member of a current generation of consumer group %s", w.cfg.Group)
		}
	}
	for _, t := range h.MissingTopics {
		add(CondTopicMissing, "topic %s does not exist; nothing is consumed until it does", t)
	}
	last := h.LastContact
	if last.IsZero() {
		last = started
	}
	if !last.IsZero() {
		if since := time.Since(last); since > w.cfg.Readiness.BrokerTimeout {
			add(CondBrokerUnreachable, "no broker has answered for %s", since.Round(time.Second))
		}
	}
	if stalled, since := w.tracker.Stalled(w.cfg.Readiness.StallTimeout); stalled {
		add(CondStalled, "%d events in flight and no commit progress for %s", w.tracker.InFlight(), since.Round(time.Second))
	}
	for _, s := range w.Stuck() {
		add(CondPartitionStuck, "%s/%d stuck at offset %d since %s: writing to %s: %v",
			s.Topic, s.Partition, s.Offset, s.Since.Format(time.RFC3339), s.Output, s.Err)
	}
	return out
}

// Ready reports whether the worker can make progress: running, a model
// loaded, a member of its group, its topics there, the brokers answering,
// commits moving and no partition stuck (see NotReady). Safe for
// concurrent use.
func (w *Worker) Ready() bool { return len(w.NotReady()) == 0 }
