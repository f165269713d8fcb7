package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/producers"
)

// Percentiles of end-to-end latency, in milliseconds.
type Percentiles struct {
	P50  float64 `json:"p50_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	N    int     `json:"samples"`
	// CoresBusy is the CPU this process (load generator, broker and
	// worker together) used while the latencies were recorded, in cores.
	CoresBusy float64 `json:"cores_busy"`
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
// falls behind shows up as latency rather than hiding it. Bodies are encoded
// before the clock starts (a pool of distinct events) and only their
// event_time is rewritten in the loop, so the load generator takes as
// little as possible of the CPU it shares with the worker and the broker.
func openLoop(ctx context.Context, e *env, m *model, rate float64, d time.Duration) (int, error) {
	pool, err := encodePool(e, m, 2048)
	if err != nil {
		return 0, err
	}
	var failed atomic.Pointer[error]
	w, err := producers.NewAsyncWriter(producers.WriterConfig{Brokers: []string{e.addr}, Topic: "features"}, nil,
		func(_ []kafka.Message, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	if err != nil {
		return 0, err
	}
	defer w.Close()
	start := time.Now()
	sent := 0
	tick := time.NewTicker(250 * time.Microsecond)
	defer tick.Stop()
	var msgs []kafka.Message
	for time.Since(start) < d {
		select {
		case <-ctx.Done():
			return sent, ctx.Err()
		case <-tick.C:
		}
		if perr := failed.Load(); perr != nil {
			return sent, fmt.Errorf("open-loop publish: %w", *perr)
		}
		due := int(time.Since(start).Seconds() * rate)
		msgs = msgs[:0]
		for ; sent < due; sent++ {
			p := &pool[sent%len(pool)]
			at := start.Add(time.Duration(float64(sent) / rate * float64(time.Second)))
			msgs = append(msgs, kafka.Message{Key: p.key, Value: p.stamp(at)})
		}
		if err := w.Enqueue(msgs...); err != nil {
			return sent, fmt.Errorf("open-loop publish: %w", err)
		}
	}
	return sent, nil
}

// stamped is an encoded event whose event_time can be rewritten in place.
type stamped struct {
	key, body []byte
	off, n    int // the event_time varint's offset and length in body
}

// stamp returns a copy of the body with event_time set to at.
func (s *stamped) stamp(at time.Time) []byte {
	b := append([]byte(nil), s.body...)
	v := binary.AppendVarint(nil, at.UnixMilli())
	if len(v) == s.n {
		copy(b[s.off:], v)
	}
	return b
}

// encodePool encodes n events and finds where each keeps its event_time,
// by encoding it twice with times a millisecond apart.
func encodePool(e *env, m *model, n int) ([]stamped, error) {
	pool := make([]stamped, n)
	now := time.Now()
	for i := range pool {
		rec := m.next()
		rec["event_time"] = now
		a, err := e.inputEnc.Append(nil, rec)
		if err != nil {
			return nil, err
		}
		rec["event_time"] = now.Add(time.Millisecond)
		b, err := e.inputEnc.Append(nil, rec)
		if err != nil {
			return nil, err
		}
		off := 0
		for off < len(a) && a[off] == b[off] {
			off++
		}
		pool[i] = stamped{key: []byte(rec["entity_id"].(string)), body: a, off: off, n: len(binary.AppendVarint(nil, now.UnixMilli()))}
	}
	return pool, nil
}
