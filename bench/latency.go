package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"
)

// Percentiles of end-to-end latency, in milliseconds.
type Percentiles struct {
	P50  float64 `json:"p50_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	N    int     `json:"samples"`
}

func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		i := min(len(d)-1, int(q*float64(len(d))))
		return float64(d[i].Microseconds()) / 1000
	}
	return Percentiles{P50: at(0.5), P99: at(0.99), P999: at(0.999), N: len(d)}
}

// openLoop publishes events at rate per second for d, stamping each with
// the time it is due (not the time it is sent), so that a producer that
// falls behind shows up as latency rather than hiding it.
func openLoop(ctx context.Context, e *env, m *model, rate float64, d time.Duration) (int, error) {
	w := &kafka.Writer{Addr: kafka.TCP(e.addr), Topic: "features", Balancer: kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: 1000, Async: true}
	defer w.Close()
	// Records are generated before the clock starts; only encoding (which
	// stamps event_time) happens in the loop.
	total := int(rate*d.Seconds()) + 1
	recs := make([]map[string]any, total)
	for i := range recs {
		recs[i] = m.next()
	}
	start := time.Now()
	sent := 0
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	var msgs []kafka.Message
	for time.Since(start) < d {
		select {
		case <-ctx.Done():
			return sent, ctx.Err()
		case <-tick.C:
		}
		due := int(time.Since(start).Seconds() * rate)
		msgs = msgs[:0]
		for ; sent < due && sent < total; sent++ {
			rec := recs[sent]
			rec["event_time"] = start.Add(time.Duration(float64(sent) / rate * float64(time.Second)))
			v, err := e.inputEnc.Append(nil, rec)
			if err != nil {
				return sent, err
			}
			msgs = append(msgs, kafka.Message{Key: []byte(rec["entity_id"].(string)), Value: v})
		}
		if len(msgs) > 0 {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				return sent, fmt.Errorf("open-loop publish: %w", err)
			}
		}
	}
	return sent, nil
}
