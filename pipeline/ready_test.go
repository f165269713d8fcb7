package pipeline_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/pipeline"
)

// syncBuf is a log sink safe for the worker's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// readyz GETs url's /readyz and returns the status and the conditions.
func readyz(t *testing.T, url string) (int, []string) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Ready      bool `json:"ready"`
		Conditions []struct {
			Name   string `json:"condition"`
			Detail string `json:"detail"`
		} `json:"conditions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("/readyz body: %v", err)
	}
	if body.Ready != (resp.StatusCode == http.StatusOK) {
		t.Fatalf("/readyz %d says ready=%v", resp.StatusCode, body.Ready)
	}
	var names []string
	for _, c := range body.Conditions {
		names = append(names, c.Name+" "+c.Detail)
	}
	return resp.StatusCode, names
}

// TestWorkerWaitsForItsTopics: a worker whose input and dead-letter topics
// do not exist is not ready, says which (one log line each, /readyz,
// sluice_topic_missing), and consumes once they are created, without a
// restart. Its dead-letter topic defaults to <input_topic>.dlq.
func TestWorkerWaitsForItsTopics(t *testing.T) {
	e := newEnv(t, 2)
	logs := &syncBuf{}
	tw := e.StartWorker(pipeline.Config{InputTopic: "orders", Group: "orders"}, testworker.Options{Log: logs,
		Reader: func(rc *consumers.ReaderConfig) { rc.TopicCheckInterval = 100 * time.Millisecond }})
	deadline := time.Now().Add(15 * time.Second)
	var conds []string
	for {
		var code int
		code, conds = readyz(t, tw.URL)
		if code == http.StatusServiceUnavailable && len(conds) >= 2 && slices.ContainsFunc(conds, func(c string) bool {
			return strings.HasPrefix(c, "topic_missing topic orders.dlq")
		}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz %d %v: want 503 naming orders and orders.dlq", code, conds)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !slices.ContainsFunc(conds, func(c string) bool { return strings.HasPrefix(c, "topic_missing topic orders ") }) {
		t.Errorf("/readyz conditions %v do not name the input topic", conds)
	}
	for _, topic := range []string{"orders", "orders.dlq", "predictions"} {
		want := 1.0
		if topic == "predictions" {
			want = 0
		}
		if v, ok := testkit.Value(tw.Reg, "sluice_topic_missing", "topic", topic); !ok || v != want {
			t.Errorf("sluice_topic_missing{topic=%q} = %v (%v), want %v", topic, v, ok, want)
		}
	}

	e.Kafka.CreateTopic(t, "orders", 2)
	e.Kafka.CreateTopic(t, "orders.dlq", 2)
	gen := demo.NewGenerator(5)
	msgs := make([]kafka.Message, 50)
	for i := range msgs {
		msgs[i] = e.Encode(gen.Next())
	}
	e.PublishTo("orders", append(msgs, kafka.Message{Value: []byte("junk")})...)
	if preds := e.Read("predictions", 50, 30*time.Second, 200*time.Millisecond); len(preds) != 50 {
		t.Fatalf("%d predictions after the topics appeared, want 50", len(preds))
	}
	if dl := e.Read("orders.dlq", 1, 10*time.Second, 200*time.Millisecond); len(dl) != 1 {
		t.Fatalf("%d dead letters on orders.dlq, want 1", len(dl))
	}
	tw.WaitReady(t)
	if v, _ := testkit.Value(tw.Reg, "sluice_topic_missing", "topic", "orders"); v != 0 {
		t.Errorf("sluice_topic_missing{topic=orders} = %v after it was created", v)
	}
	for _, topic := range []string{"orders", "orders.dlq"} {
		if n := strings.Count(logs.String(), "missing_topic="+topic+"\n"); n != 1 {
			t.Errorf("%d log lines say %s is missing, want 1", n, topic)
		}
	}
}
