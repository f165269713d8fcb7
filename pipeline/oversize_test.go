package pipeline_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/pipeline"
)

// TestOutputsThatDoNotFitTheirTopic: a dead letter larger than its topic
// takes keeps its headers and a prefix of the original value, with the
// original size and SHA-256 in headers; a prediction larger than its
// topic takes is replaced by a dead letter of its input (output_too_large).
// Neither holds up its partition.
func TestOutputsThatDoNotFitTheirTopic(t *testing.T) {
	e := newEnv(t, 2)
	for name, limit := range map[string]string{"tiny.dlq": "2000", "small-preds": "150"} {
		if err := e.Kafka.Cluster.CreateTopic(name, 2, map[string]string{"max.message.bytes": limit}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("dead letter", func(t *testing.T) {
		w := e.startWorker(pipeline.Config{Group: "tiny", DLQTopic: "tiny.dlq"})
		junk := make([]byte, 5000) // not Avro: dead-lettered
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range junk {
			junk[i] = byte(rng.Uint32())
		}
		sum := sha256.Sum256(junk)
		e.PublishRaw(kafka.Message{Key: []byte("k"), Value: junk, Headers: []kafka.Header{{Key: "case", Value: []byte("junk")}}})
		e.Publish(20, 9)
		if preds := e.Read("predictions", 20, 30*time.Second, 200*time.Millisecond); len(preds) != 20 {
			t.Fatalf("%d predictions, want 20", len(preds))
		}
		dl := e.Read("tiny.dlq", 1, 30*time.Second, 200*time.Millisecond)
		if len(dl) != 1 {
			t.Fatalf("%d dead letters, want 1", len(dl))
		}
		info, err := consumers.ParseDeadLetter(dl[0].Msg)
		if err != nil {
			t.Fatal(err)
		}
		if info.OriginalSize != len(junk) || info.OriginalSHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("original size %d sha256 %s, want %d %x", info.OriginalSize, info.OriginalSHA256, len(junk), sum)
		}
		if v := dl[0].Msg.Value; len(v) == 0 || len(v) >= 2000 || !bytes.HasPrefix(junk, v) {
			t.Errorf("dead letter value: %d bytes, want a prefix of the original under 2000", len(v))
		}
		if info.Class == "" || info.SourceTopic != "features" || info.ConsumerGroup != "tiny" {
			t.Errorf("dead-letter headers %+v", info)
		}
		if len(w.w.Stuck()) != 0 {
			t.Errorf("stuck partitions: %+v", w.w.Stuck())
		}
	})

	t.Run("prediction", func(t *testing.T) {
		w := e.startWorker(pipeline.Config{Group: "small", InputTopic: "small-in", OutputTopic: "small-preds"})
		e.Kafka.CreateTopic(t, "small-in", 2)
		e.Kafka.CreateTopic(t, "small-in.dlq", 2)
		gen := demo.NewGenerator(11)
		want := map[string][]byte{}
		var msgs []kafka.Message
		for range 10 {
			rec := gen.Next()
			m := e.Encode(rec)
			want[rec["event_id"].(string)] = m.Value
			msgs = append(msgs, m)
		}
		e.PublishTo("small-in", msgs...)
		dl := e.Read("small-in.dlq", 10, 30*time.Second, 300*time.Millisecond)
		if len(dl) != 10 {
			t.Fatalf("%d dead letters, want 10", len(dl))
		}
		for _, d := range dl {
			info, err := consumers.ParseDeadLetter(d.Msg)
			if err != nil {
				t.Fatal(err)
			}
			if info.Class != "output_too_large" || info.OriginalSize != -1 {
				t.Errorf("dead letter %+v, want class output_too_large with the value whole", info)
			}
			found := false
			for _, v := range want {
				found = found || bytes.Equal(v, d.Msg.Value)
			}
			if !found {
				t.Error("a dead letter does not carry its input's value")
			}
		}
		if preds := e.Read("small-preds", 0, time.Second, 300*time.Millisecond); len(preds) != 0 {
			t.Errorf("%d predictions reached a topic they do not fit", len(preds))
		}
		if v, _ := testkit.Value(w.reg, "sluice_partition_stuck"); v != 0 || len(w.w.Stuck()) != 0 {
			t.Errorf("stuck partitions: %+v", w.w.Stuck())
		}
		if err := w.stop(); err != nil {
			t.Fatal(err)
		}
	})
}
