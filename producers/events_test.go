package producers_test

import (
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/schemas"
)

const sinkSchema = `{"type":"record","name":"Thing","namespace":"test","fields":[{"name":"a","type":"string"},{"name":"n","type":"long"}]}`

// countingRegistry serves the embedded registry over e's Redis and counts
// the registrations it is sent.
func countingRegistry(t *testing.T, e *testworker.Env) (*schemas.Client, *atomic.Int64) {
	t.Helper()
	var registrations atomic.Int64
	srv := schemas.NewServer(e.Redis)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/versions") {
			registrations.Add(1)
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return schemas.NewClient(hs.URL, nil), &registrations
}

// produceAcks records the acks of every produce request the broker gets.
func produceAcks(e *testworker.Env) func() []int16 {
	var mu sync.Mutex
	var acks []int16
	c := e.Kafka.Cluster
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		mu.Lock()
		acks = append(acks, req.(*kmsg.ProduceRequest).Acks)
		mu.Unlock()
		return nil, nil, false
	})
	return func() []int16 {
		mu.Lock()
		defer mu.Unlock()
		return append([]int16(nil), acks...)
	}
}

// The event sink registers a topic's schema under <topic>-value once,
// writes each event Confluent-framed (magic byte, that schema's id) with
// acks=all and the key it was given, and says which step failed.
func TestEventSinkPublishesFramedAvro(t *testing.T) {
	e := testworker.New(t, 1)
	e.Kafka.CreateTopic(t, "things", 1)
	client, registrations := countingRegistry(t, e)
	acks := produceAcks(e)
	w, err := producers.NewWriter(producers.WriterConfig{Brokers: []string{e.Kafka.Addr}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sink := producers.NewEventSink(client, w)
	ctx := t.Context()
	for i, key := range []string{"k1", "k2", "k1"} {
		if err := sink.Emit(ctx, "things", key, map[string]any{"a": key, "n": int64(i)}, sinkSchema); err != nil {
			t.Fatal(err)
		}
	}
	if n := registrations.Load(); n != 1 {
		t.Errorf("%d registrations for three events, want one", n)
	}
	sv, err := client.Version(ctx, "things-value", "latest")
	if err != nil {
		t.Fatalf("the schema is not under things-value: %v", err)
	}
	recs := e.Read("things", 3, 30*time.Second, 200*time.Millisecond)
	if len(recs) != 3 {
		t.Fatalf("%d records on the topic, want 3", len(recs))
	}
	for i, r := range recs {
		v := r.Msg.Value
		if len(v) < 5 || v[0] != 0 || int32(binary.BigEndian.Uint32(v[1:5])) != sv.ID {
			t.Fatalf("record %d is not framed with schema id %d: % x", i, sv.ID, v[:min(len(v), 5)])
		}
		if r.Rec["a"] != string(r.Msg.Key) || r.Rec["n"] != int64(i) {
			t.Fatalf("record %d: key %q, value %v", i, r.Msg.Key, r.Rec)
		}
	}
	for _, a := range acks() {
		if a != -1 {
			t.Fatalf("a produce request asked for acks=%d, want -1 (all in-sync replicas): %v", a, acks())
		}
	}
	if len(acks()) == 0 {
		t.Fatal("no produce request seen")
	}

	// Each step that fails says which.
	if err := sink.Emit(ctx, "things", "k", map[string]any{"a": "no n"}, sinkSchema); err == nil || !strings.Contains(err.Error(), "encoding things event") {
		t.Errorf("event missing a field: %v", err)
	}
	breaking := `{"type":"record","name":"Thing","namespace":"test","fields":[{"name":"b","type":"string"}]}`
	if err := producers.NewEventSink(client, w).Emit(ctx, "things", "k", map[string]any{"b": "x"}, breaking); err == nil ||
		!strings.Contains(err.Error(), "registering the things schema") {
		t.Errorf("incompatible schema: %v", err)
	}
}
