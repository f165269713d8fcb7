package loadgen

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/schemas"
)

// PublishJSON registers the schema under the topic's subject and publishes
// each line as a record of it, keyed by the key field; a line that does
// not fit stops it, naming the line, after publishing those before.
func TestPublishJSON(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "iris", 1)
	rdb := testkit.StartRedis(t).Client()
	defer rdb.Close()
	srv := httptest.NewServer(schemas.NewServer(rdb))
	defer srv.Close()
	ctx := testkit.Context(t, 30*time.Second)
	schema := `{"type": "record", "name": "Iris", "fields": [{"name": "event_id", "type": "string"},
  {"name": "sepal_length", "type": "float"}, {"name": "count", "type": "long"},
  {"name": "petals", "type": {"type": "array", "items": "double"}}, {"name": "note", "type": ["null", "string"]}]}`
	in := `{"event_id": "a", "sepal_length": 5.1, "count": 3, "petals": [1.4, 0.2], "note": "first"}

{"event_id": "b", "sepal_length": 4.9, "count": 4, "petals": [], "note": null}
{"event_id": "c", "sepal_length": "long", "count": 4, "petals": []}
{"event_id": "d", "sepal_length": 1, "count": 1, "petals": []}
`
	cfg := JSONConfig{Brokers: []string{k.Addr}, RegistryURL: srv.URL, Topic: "iris", Schema: schema, KeyField: "event_id"}
	res, err := PublishJSON(ctx, cfg, strings.NewReader(in))
	if err == nil || !strings.Contains(err.Error(), "line 4: encoding record for iris-value") || res.Sent != 2 {
		t.Fatalf("PublishJSON: %+v, %v; want 2 published and line 4 refused", res, err)
	}
	client := schemas.NewClient(srv.URL, nil)
	if v, err := client.Version(ctx, "iris-value", "latest"); err != nil || v.ID != res.SchemaID {
		t.Fatalf("subject iris-value: %+v, %v; want schema id %d", v, err, res.SchemaID)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{k.Addr}, Topic: "iris", StartOffset: kafka.FirstOffset, MaxWait: 50 * time.Millisecond})
	defer r.Close()
	dec := schemas.NewDecoder(client, 0)
	for _, want := range []string{"a", "b"} {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		m, err := r.FetchMessage(rctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		rec, _, err := dec.Decode(ctx, m.Value)
		if err != nil || string(m.Key) != want || rec["event_id"] != want {
			t.Fatalf("record %s: key %q, %v, %v", want, m.Key, rec, err)
		}
		if want == "a" && (rec["sepal_length"] != float32(5.1) || rec["count"] != int64(3) || rec["note"] != "first") {
			t.Fatalf("record a decodes as %v", rec)
		}
	}
}
