package worker

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/pipeline"
)

// source is the pipeline's Source on a group reader and its tracker: the
// tracker fetches, tracks, acknowledges, pauses and commits; Close leaves
// the group; NotReady reads the reader's health.
type source struct {
	*consumers.Tracker
	reader  *consumers.Reader
	group   string
	r       pipeline.Readiness
	started atomic.Int64 // unix ns of the first Next: the baseline before any broker contact
}

var (
	_ pipeline.Source       = (*source)(nil)
	_ pipeline.Pauser       = (*source)(nil)
	_ pipeline.SourceHealth = (*source)(nil)
)

func newSource(r *consumers.Reader, t *consumers.Tracker, cfg pipeline.Config) *source {
	return &source{Tracker: t, reader: r, group: cfg.Group, r: cfg.Readiness}
}

// Next is the tracker's, noting when fetching began.
func (s *source) Next(ctx context.Context) (kafka.Message, error) {
	if s.started.Load() == 0 {
		s.started.CompareAndSwap(0, time.Now().UnixNano())
	}
	return s.Tracker.Next(ctx)
}

// Close leaves the group and stops the fetchers.
func (s *source) Close() error { return s.reader.Close() }

// NotReady lists the group's reasons the worker cannot make progress: not
// a member of a current generation, a needed topic missing, no broker
// answering for readiness.broker_timeout, events in flight and no commit
// progress for readiness.stall_timeout.
func (s *source) NotReady() []pipeline.Condition {
	var out []pipeline.Condition
	add := func(name, format string, args ...any) {
		out = append(out, pipeline.Condition{Name: name, Detail: fmt.Sprintf(format, args...)})
	}
	h := s.reader.Health()
	if !h.Joined {
		if h.JoinError != nil {
			add(pipeline.CondNotJoined, "not a member of consumer group %s: %v", s.group, h.JoinError)
		} else {
			add(pipeline.CondNotJoined, "not a member of a current generation of consumer group %s", s.group)
		}
	}
	for _, t := range h.MissingTopics {
		add(pipeline.CondTopicMissing, "topic %s does not exist; nothing is consumed until it does", t)
	}
	last := h.LastContact
	if last.IsZero() {
		if ns := s.started.Load(); ns != 0 {
			last = time.Unix(0, ns)
		}
	}
	if !last.IsZero() {
		if since := time.Since(last); since > s.r.BrokerTimeout {
			add(pipeline.CondBrokerUnreachable, "no broker has answered for %s", since.Round(time.Second))
		}
	}
	if stalled, since := s.Stalled(s.r.StallTimeout); stalled {
		add(pipeline.CondStalled, "%d events in flight and no commit progress for %s", s.InFlight(), since.Round(time.Second))
	}
	return out
}
