package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-ml/sluice/inference"
)

// ScaleRow is the pipeline's throughput with some workers (in this one
// process, sharing its cores) over a topic of some partitions.
type ScaleRow struct {
	Workers    int     `json:"workers"`
	Partitions int     `json:"partitions"`
	EventsPerS float64 `json:"events_per_s"`
}

// scaleRuns are the rows measured: partitions first, then workers.
func scaleRuns(partitions int) []ScaleRow {
	return []ScaleRow{{Workers: 1, Partitions: 1}, {Workers: 1, Partitions: partitions}, {Workers: 2, Partitions: partitions}}
}

// scale measures each row over n events preloaded to a topic of its own,
// timed from the moment the workers start fetching.
// The broker holds every fetch until all the row's workers have joined and
// the group is stable with every member assigned, so the first worker does
// not drain the topic alone while the second is still joining.
func scale(ctx context.Context, o Options, name string, e *env, m *model, im *inference.Model, batch inference.BatchConfig, n, maxInFlight int) ([]ScaleRow, error) {
	rows := scaleRuns(int(o.Partitions))
	for i := range rows {
		r := &rows[i]
		topic, group := fmt.Sprintf("scale-%d", i), fmt.Sprintf("scale-%d-%d", i, time.Now().UnixNano())
		o.progress("%s: [6/6] scale: %d worker(s), %d partition(s): preloading", name, r.Workers, r.Partitions)
		if err := e.broker.CreateTopic(topic, int32(r.Partitions), nil); err != nil {
			return rows, err
		}
		if err := e.preloadTopic(ctx, m, topic, n); err != nil {
			return rows, err
		}
		rate, err := scaleRun(ctx, e, topic, group, r.Workers, im, batch, n, maxInFlight)
		if err != nil {
			return rows, fmt.Errorf("scale, %d workers over %d partitions: %w", r.Workers, r.Partitions, err)
		}
		r.EventsPerS = rate.perS
		o.progress("%s: [6/6] scale: %d worker(s), %d partition(s): %.0f events/s", name, r.Workers, r.Partitions, rate.perS)
	}
	return rows, nil
}

func scaleRun(ctx context.Context, e *env, topic, group string, workers int, im *inference.Model, batch inference.BatchConfig, n, maxInFlight int) (runRate, error) {
	h := holdWorkers(e)
	defer h.stop()
	for range workers {
		w, err := startWorkerOn(ctx, e, topic, group, im, batch, maxInFlight)
		if err != nil {
			return runRate{}, err
		}
		h.add(w)
	}
	if err := waitStable(ctx, e, group, workers); err != nil {
		return runRate{}, err
	}
	return h.run(ctx, n)
}

// held is a set of workers started one after another while the broker
// holds every fetch, and timed together from the moment it lets them go:
// several workers hold up to max_in_flight events each, a large share of
// a run, before the first completes, so timing from the first completion
// (measure) would leave much of their work out.
type held struct {
	e    *env
	open func()
	ws   []*running
}

func holdWorkers(e *env) *held { return &held{e: e, open: holdFetches(e)} }

func (h *held) add(w *running) { h.ws = append(h.ws, w) }

// run lets the workers fetch and returns their total rate over n events.
func (h *held) run(ctx context.Context, n int) (runRate, error) {
	h.open()
	return measureWhole(ctx, h.e, n, doneBy(h.ws))
}

// stop stops the workers (letting any held fetch go first).
func (h *held) stop() {
	h.open()
	for _, w := range h.ws {
		w.stop()
	}
}

// holdFetches makes the broker hold every fetch until open is called, so
// that workers started one after another start consuming together. open
// may be called more than once.
func holdFetches(e *env) (open func()) {
	gate := make(chan struct{})
	var once sync.Once
	e.broker.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
		select {
		case <-gate:
			e.broker.DropControl()
		default:
			e.broker.SleepControl(func() { <-gate })
		}
		return nil, nil, false // then handled as usual
	})
	return func() { once.Do(func() { close(gate) }) }
}

// waitStable waits until group is stable with members members, each
// assigned at least one partition.
func waitStable(ctx context.Context, e *env, group string, members int) error {
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	c := &kafka.Client{Addr: kafka.TCP(e.addr), Timeout: 5 * time.Second, Transport: tr}
	deadline := time.Now().Add(30 * time.Second)
	last := "no answer"
	for time.Now().Before(deadline) {
		res, err := c.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
		if err != nil {
			last = err.Error()
		} else if len(res.Groups) == 1 {
			g := res.Groups[0]
			assigned := 0
			for _, mem := range g.Members {
				for _, t := range mem.MemberAssignments.Topics {
					if len(t.Partitions) > 0 {
						assigned++
						break
					}
				}
			}
			last = fmt.Sprintf("state %s, %d members, %d assigned", g.GroupState, len(g.Members), assigned)
			if g.GroupState == "Stable" && len(g.Members) == members && assigned == members {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("group %s not stable with %d members in 30s (%s)", group, members, last)
}
