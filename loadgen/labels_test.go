package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/schemas"
)

// TestRunPublishesLabels checks that every published event has exactly one
// label, keyed by its event id, with the generator's ground truth.
func TestRunPublishesLabels(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 2)
	k.CreateTopic(t, DefaultLabelsTopic, 2)
	rdb := testkit.StartRedis(t).Client()
	defer rdb.Close()
	srv := testworker.StartRegistry(t, rdb)
	ctx := testkit.Context(t, 30*time.Second)

	const n, seed = 700, 9
	res, err := Run(ctx, Config{Brokers: []string{k.Addr}, RegistryURL: srv.URL, Topic: "features", Count: n, Seed: seed, BatchSize: 300, Labels: true})
	if err != nil || res.Sent != n || res.Labels != n {
		t.Fatalf("Run: %+v, %v", res, err)
	}

	want := map[string]int{}
	g := demo.NewGenerator(seed)
	for range n {
		rec, fraud := g.NextLabelled()
		want[rec["event_id"].(string)] = map[bool]int{false: 0, true: 1}[fraud]
	}
	dec := schemas.NewDecoder(srv.Client, 0)
	got := map[string]int{}
	for p := range 2 {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{k.Addr}, Topic: DefaultLabelsTopic, Partition: p, MaxWait: 100 * time.Millisecond})
		for {
			rctx, cancel := context.WithTimeout(ctx, time.Second)
			m, err := r.ReadMessage(rctx)
			cancel()
			if err != nil {
				break
			}
			rec, _, err := dec.Decode(ctx, m.Value)
			if err != nil {
				t.Fatal(err)
			}
			l, err := quality.ParseLabel(rec)
			if err != nil || string(m.Key) != l.EventID || l.Time.IsZero() {
				t.Fatalf("label %+v (key %q): %v", l, m.Key, err)
			}
			got[l.EventID]++
			if l.Class != want[l.EventID] {
				t.Fatalf("event %s labelled %d, generated %d", l.EventID, l.Class, want[l.EventID])
			}
		}
		r.Close()
	}
	if len(got) != n {
		t.Fatalf("%d distinct labels, want %d", len(got), n)
	}
	for id, c := range got {
		if c != 1 {
			t.Fatalf("event %s labelled %d times", id, c)
		}
	}
}

// TestLabelDelay checks that with LabelDelay each label reaches the topic
// no sooner than that long after its event, and that Run waits for the
// last of them.
func TestLabelDelay(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 1)
	k.CreateTopic(t, DefaultLabelsTopic, 1)
	rdb := testkit.StartRedis(t).Client()
	defer rdb.Close()
	srv := testworker.StartRegistry(t, rdb)
	ctx := testkit.Context(t, 30*time.Second)

	const n, delay = 400, 400 * time.Millisecond
	res, err := Run(ctx, Config{Brokers: []string{k.Addr}, RegistryURL: srv.URL, Topic: "features", Count: n, Rate: 2000,
		Seed: 3, BatchSize: 100, Labels: true, LabelDelay: delay})
	if err != nil || res.Sent != n || res.Labels != n {
		t.Fatalf("Run: %+v, %v", res, err)
	}
	read := func(topic string) []kafka.Message {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{k.Addr}, Topic: topic, Partition: 0, MaxWait: 100 * time.Millisecond})
		defer r.Close()
		var out []kafka.Message
		for len(out) < n {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
		return out
	}
	dec := schemas.NewDecoder(srv.Client, 0)
	sent := map[string]time.Time{}
	for _, m := range read("features") {
		rec, _, err := dec.Decode(ctx, m.Value)
		if err != nil {
			t.Fatal(err)
		}
		sent[rec["event_id"].(string)] = m.Time
	}
	var least time.Duration = time.Hour
	for _, m := range read(DefaultLabelsTopic) {
		at, ok := sent[string(m.Key)]
		if !ok {
			t.Fatalf("a label for an unknown event %s", m.Key)
		}
		least = min(least, m.Time.Sub(at))
	}
	t.Logf("the earliest label followed its event by %v", least)
	// Kafka timestamps are in milliseconds and the event's is taken when its
	// batch is written, a little after the label is queued.
	if least < delay-50*time.Millisecond {
		t.Fatalf("a label reached the topic %v after its event, LabelDelay is %v", least, delay)
	}
}
