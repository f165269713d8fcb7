package consumers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/producers"
)

func TestDeadLetterHeaders(t *testing.T) {
	src := kafka.Message{
		Topic: "features", Partition: 3, Offset: 12345,
		Key: []byte("entity-7"), Value: []byte{0x00, 0xde, 0xad},
		Headers: []kafka.Header{
			{Key: "traceparent", Value: []byte("00-abc-def-01")},
			{Key: HeaderErrorClass, Value: []byte("old")}, // from an earlier dead lettering
		},
		Time: time.Unix(1700000000, 0),
	}
	dl := DeadLetter(src, "sluice", "bad_magic", errors.New("schemas: bad magic byte 0xde"), "features.dlq")
	if dl.Topic != "features.dlq" || !bytes.Equal(dl.Key, src.Key) || !bytes.Equal(dl.Value, src.Value) || !dl.Time.IsZero() {
		t.Fatalf("dead letter %+v", dl)
	}
	if dl.Headers[0].Key != "traceparent" || len(dl.Headers) != 7 {
		t.Fatalf("headers %v: want the original one kept and six sluice.* once each", dl.Headers)
	}
	if len(src.Headers) != 2 {
		t.Fatal("DeadLetter modified the source message's headers")
	}
	info, err := ParseDeadLetter(dl)
	if err != nil {
		t.Fatal(err)
	}
	want := DeadLetterInfo{
		Class: "bad_magic", Message: "schemas: bad magic byte 0xde", SourceTopic: "features",
		SourcePartition: 3, SourceOffset: 12345, ConsumerGroup: "sluice", OriginalSize: -1,
	}
	if info != want {
		t.Fatalf("parsed %+v, want %+v", info, want)
	}
}

func TestDeadLetterTruncatesLongErrors(t *testing.T) {
	long := strings.Repeat("é", 1000) // 2000 bytes
	dl := DeadLetter(kafka.Message{}, "g", "decode", errors.New(long), "")
	info, err := ParseDeadLetter(dl)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Message) > maxErrorMessage || !utf8.ValidString(info.Message) || !strings.HasPrefix(long, info.Message) {
		t.Fatalf("message of %d bytes, valid UTF-8 %v", len(info.Message), utf8.ValidString(info.Message))
	}
	if dl.Topic != "" {
		t.Fatalf("topic %q, want empty for a writer with a fixed topic", dl.Topic)
	}
}

func TestParseDeadLetterErrors(t *testing.T) {
	good := DeadLetter(kafka.Message{Partition: 1, Offset: 2}, "g", "empty", nil, "dlq")
	with := func(key, val string) kafka.Message {
		m := good
		m.Headers = append(append([]kafka.Header(nil), good.Headers...), kafka.Header{Key: key, Value: []byte(val)})
		return m
	}
	tests := []struct {
		name string
		msg  kafka.Message
		want string // substring; "" = ErrNotDeadLetter
	}{
		{"no headers", kafka.Message{Value: []byte("x")}, ""},
		{"bad partition", with(HeaderSourcePartition, "three"), HeaderSourcePartition},
		{"bad offset", with(HeaderSourceOffset, ""), HeaderSourceOffset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDeadLetter(tt.msg)
			if tt.want == "" {
				if !errors.Is(err, ErrNotDeadLetter) {
					t.Fatalf("err = %v, want ErrNotDeadLetter", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

// TestDeadLetterThroughBroker reads a message, dead-letters it through a
// writer, reads the dead letter back, and checks that key, value and
// headers came through byte for byte.
func TestDeadLetterThroughBroker(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 4)
	k.CreateTopic(t, "features.dlq", 1)
	ctx := testkit.Context(t, 20*time.Second)
	value := []byte{0x00, 0x00, 0x00, 0x00, 0x07, 0xff, 0xfe, 0x00, 0x80}
	produceOne(t, k, "features", kafka.Message{
		Key: []byte("entity-9"), Value: value,
		Headers: []kafka.Header{{Key: "origin", Value: []byte{0x01, 0x02}}},
	})

	src := fetchN(t, ctx, newTestReader(t, testReaderConfig(k.Addr, "features", "sluice")), 1)[0]
	w, err := producers.NewWriter(producers.WriterConfig{Brokers: []string{k.Addr}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	dl := DeadLetter(src, "sluice", "unknown_schema", errors.New("schema 7 not found"), "features.dlq")
	if err := w.Write(ctx, dl); err != nil {
		t.Fatal(err)
	}

	got := fetchN(t, ctx, newTestReader(t, testReaderConfig(k.Addr, "features.dlq", "tools")), 1)[0]
	if !bytes.Equal(got.Key, src.Key) || !bytes.Equal(got.Value, value) {
		t.Fatalf("dead letter key %q value %x, want %q %x", got.Key, got.Value, src.Key, value)
	}
	if len(got.Headers) == 0 || got.Headers[0].Key != "origin" || !bytes.Equal(got.Headers[0].Value, []byte{1, 2}) {
		t.Fatalf("original header lost: %v", got.Headers)
	}
	info, err := ParseDeadLetter(got)
	if err != nil {
		t.Fatal(err)
	}
	want := DeadLetterInfo{
		Class: "unknown_schema", Message: "schema 7 not found", SourceTopic: "features",
		SourcePartition: src.Partition, SourceOffset: src.Offset, ConsumerGroup: "sluice", OriginalSize: -1,
	}
	if info != want {
		t.Fatalf("parsed %+v, want %+v", info, want)
	}
}

// TestShrinkDeadLetter cuts a dead letter that does not fit: its value to
// a prefix (the original size and SHA-256 in headers), and only when the
// whole value is not enough, the original headers too; the sluice.*
// headers always stay.
func TestShrinkDeadLetter(t *testing.T) {
	value := make([]byte, 10_000)
	for i := range value {
		value[i] = byte(i * 7)
	}
	sum := sha256.Sum256(value)
	orig := kafka.Message{Topic: "features", Partition: 1, Offset: 292, Key: []byte("card-1"), Value: value,
		Headers: []kafka.Header{{Key: "traceparent", Value: []byte("00-abc-def-01")}, {Key: "big", Value: make([]byte, 5_000)}}}
	dl := DeadLetter(orig, "sluice", "too_large", errors.New("record larger than max_record_bytes"), "features.dlq")
	size := func(m kafka.Message) int { return len(m.Key) + len(m.Value) + headersLen(m.Headers) }

	tests := []struct {
		name        string
		by          int
		wantHeaders bool // the original headers kept
	}{
		{"a little", 100, true},
		{"most of the value", 9_000, true},
		{"more than the value", 12_000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ShrinkDeadLetter(dl, tt.by)
			if shrunk := size(dl) - size(got); shrunk < tt.by {
				t.Fatalf("shrunk by %d bytes, want at least %d", shrunk, tt.by)
			}
			if !bytes.HasPrefix(value, got.Value) {
				t.Fatal("the value kept is not a prefix of the original")
			}
			if len(got.Value) < len(value)-tt.by-400 {
				t.Errorf("kept %d bytes of the value, far less than needed (%d)", len(got.Value), len(value)-tt.by)
			}
			info, err := ParseDeadLetter(got)
			if err != nil {
				t.Fatal(err)
			}
			if info.OriginalSize != len(value) || info.OriginalSHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("original size %d sha256 %s, want %d %x", info.OriginalSize, info.OriginalSHA256, len(value), sum)
			}
			if info.Class != "too_large" || info.SourceOffset != 292 || info.SourcePartition != 1 || info.ConsumerGroup != "sluice" {
				t.Errorf("dead-letter headers lost: %+v", info)
			}
			if kept := hasHeaderKey(got, "traceparent"); kept != tt.wantHeaders {
				t.Errorf("original header kept = %v, want %v", kept, tt.wantHeaders)
			}
			if dropped := hasHeaderKey(got, HeaderOriginalHeaders); dropped == tt.wantHeaders {
				t.Errorf("%s present = %v, want %v", HeaderOriginalHeaders, dropped, !tt.wantHeaders)
			}
			// Shrinking again keeps the first original size and digest.
			again, err := ParseDeadLetter(ShrinkDeadLetter(got, 10))
			if err != nil || again.OriginalSize != len(value) || again.OriginalSHA256 != info.OriginalSHA256 {
				t.Errorf("shrunk twice: %+v, %v", again, err)
			}
		})
	}
	if !bytes.Equal(dl.Value, value) || len(dl.Headers) != 8 {
		t.Error("ShrinkDeadLetter modified its argument")
	}
}

func hasHeaderKey(m kafka.Message, key string) bool {
	for _, h := range m.Headers {
		if h.Key == key {
			return true
		}
	}
	return false
}
