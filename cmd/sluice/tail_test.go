package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/schemas"
)

// A dead letter of class non_finite holds a NaN (and infinities): tail
// prints it, as the string "NaN", and goes on to the next record.
func TestTailPrintsNonFiniteValues(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features.dlq", 1)
	rdb := testkit.StartRedis(t).Client()
	t.Cleanup(func() { _ = rdb.Close() })
	srv := testworker.StartRegistry(t, rdb)
	schema := `{"type": "record", "name": "R", "fields": [{"name": "x", "type": "double"},
		{"name": "v", "type": {"type": "array", "items": "float"}}]}`
	enc, err := schemas.NewEncoder(t.Context(), srv.Client, "features.dlq-value", schema)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []kafka.Message
	for _, rec := range []map[string]any{
		{"x": math.NaN(), "v": []any{float32(1), float32(math.Inf(1))}},
		{"x": 2.5, "v": []any{float32(math.Inf(-1))}},
	} {
		v, err := enc.Append(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, kafka.Message{Value: v, Headers: []kafka.Header{{Key: "sluice.error.class", Value: []byte("non_finite")}}})
	}
	w := &kafka.Writer{Addr: kafka.TCP(k.Addr), Topic: "features.dlq", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, Transport: testkit.Transport(t)}
	if err := w.WriteMessages(testkit.Context(t, 30*time.Second), msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()

	var out bytes.Buffer
	if err := tail(testkit.Context(t, 30*time.Second), []string{"--brokers", k.Addr, "--registry-url", srv.URL, "-n", "2", "features.dlq"}, &out); err != nil {
		t.Fatalf("tail: %v\n%s", err, out.String())
	}
	var lines []map[string]any
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, line)
	}
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), out.String())
	}
	first, ok1 := lines[0]["value"].(map[string]any)
	second, ok2 := lines[1]["value"].(map[string]any)
	if !ok1 || !ok2 {
		t.Fatalf("records not printed as values:\n%s", out.String())
	}
	if first["x"] != "NaN" || first["v"].([]any)[1] != "+Inf" || first["v"].([]any)[0] != 1.0 {
		t.Fatalf("first record %v, want x NaN and v [1 +Inf]", first)
	}
	if second["x"] != 2.5 || second["v"].([]any)[0] != "-Inf" {
		t.Fatalf("second record %v, want x 2.5 and v [-Inf]", second)
	}
	if h := lines[0]["headers"].(map[string]any); !strings.Contains(h["sluice.error.class"].(string), "non_finite") {
		t.Fatalf("headers %v", h)
	}
}
