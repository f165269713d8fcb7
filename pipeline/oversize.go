package pipeline

import (
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/dlq"
	"github.com/sluice-ml/sluice/producers"
)

// fit makes the message tl names fit its topic and returns msgs with it
// replaced (a new slice: msgs may be the emit stage's), or false when it
// cannot be made smaller (it then goes to the retrier and, failing,
// sticks its partition):
//   - a dead letter keeps its headers and a prefix of the original value,
//     with the original size and SHA-256 in headers
//     (consumers.ShrinkDeadLetter);
//   - a prediction is replaced by a dead letter of its input, class
//     output_too_large;
//   - a shadow prediction is dropped (it decides nothing).
func (w *Worker) fit(msgs []kafka.Message, tl *producers.TooLargeError) ([]kafka.Message, bool) {
	m := msgs[tl.Index]
	ev := eventOf(m.WriterData)
	out := make([]kafka.Message, 0, len(msgs))
	out = append(out, msgs[:tl.Index]...)
	switch {
	case ev == nil:
		w.deps.Metrics.shadowErrors.Inc()
		w.log.Warn("shadow prediction too large for its topic; dropped", "topic", tl.Topic, "bytes", tl.Size, "limit", tl.Limit)
		return append(out, msgs[tl.Index+1:]...), true
	case ev.dlqClass == "":
		ev.dlqClass = dlq.OutputTooLarge
		ev.dlqErr = fmt.Errorf("the prediction is %d bytes, topic %s takes at most %d", tl.Size, tl.Topic, tl.Limit)
		dl := consumers.DeadLetter(ev.msg, w.cfg.Group, ev.dlqClass, ev.dlqErr, w.cfg.DLQTopic)
		dl.WriterData = m.WriterData
		m = dl
	default:
		if len(m.Value) == 0 && hasHeader(m, consumers.HeaderOriginalHeaders) {
			return nil, false // nothing left to cut but the key and the sluice.* headers
		}
		m = consumers.ShrinkDeadLetter(m, int(tl.Size-tl.Limit))
		if len(m.Value) < len(ev.msg.Value) {
			w.log.Warn("dead letter too large for its topic; it carries a prefix of the value, with the original size and sha256 in headers",
				"topic", w.cfg.InputTopic, "partition", ev.msg.Partition, "offset", ev.msg.Offset,
				"value_bytes", len(ev.msg.Value), "kept_bytes", len(m.Value), "dlq_topic", tl.Topic, "limit", tl.Limit)
		}
	}
	out = append(out, m)
	return append(out, msgs[tl.Index+1:]...), true
}

func hasHeader(m kafka.Message, key string) bool {
	for _, h := range m.Headers {
		if h.Key == key {
			return true
		}
	}
	return false
}
