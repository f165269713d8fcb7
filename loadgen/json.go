package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/schemas"
)

// JSONConfig says where PublishJSON publishes records of one's own schema.
type JSONConfig struct {
	Brokers     []string
	RegistryURL string
	Topic       string
	// Schema is the records' Avro schema (JSON text); it is registered
	// under the topic's subject (TOPIC-value), as a Confluent serializer
	// registers it.
	Schema string
	// KeyField names the field whose value keys each message ("": no key).
	KeyField string
}

// maxJSONLine bounds one line of PublishJSON's input.
const maxJSONLine = 16 << 20

// PublishJSON publishes the records read from r, one JSON object per line
// (blank lines skipped), encoded with cfg.Schema: numbers fill any numeric
// field, an array of numbers an array field, null or an absent key a
// nullable one, a number of epoch milliseconds a timestamp-millis. A line
// that is not an object or does not fit the schema stops it with an error
// naming the line; what came before it is published. It returns what it
// published.
func PublishJSON(ctx context.Context, cfg JSONConfig, r io.Reader) (Result, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" || cfg.RegistryURL == "" {
		return Result{}, errors.New("loadgen: brokers, topic and registry URL are required")
	}
	enc, err := schemas.NewEncoder(ctx, schemas.NewClient(cfg.RegistryURL, nil), schemas.Subject(cfg.Topic), cfg.Schema)
	if err != nil {
		return Result{}, fmt.Errorf("registering the schema under %s: %w", schemas.Subject(cfg.Topic), err)
	}
	tr := &kafka.Transport{} // its own, closed on return: kafka-go's default one keeps its connections
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(cfg.Brokers...), Topic: cfg.Topic, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 2 * time.Millisecond, AllowAutoTopicCreation: true, Transport: tr}
	defer w.Close()
	res := Result{SchemaID: enc.ID()}
	start := time.Now()
	var msgs []kafka.Message
	flush := func() error {
		if len(msgs) == 0 {
			return nil
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			return fmt.Errorf("publishing records: %w", err)
		}
		res.Sent += len(msgs)
		msgs = msgs[:0]
		return nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxJSONLine)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal(text, &rec); err != nil || rec == nil {
			_ = flush()
			return res, fmt.Errorf("line %d: not a JSON object: %v", line, err)
		}
		value, err := enc.Append(nil, rec)
		if err != nil {
			_ = flush()
			return res, fmt.Errorf("line %d: %w", line, err)
		}
		msg := kafka.Message{Value: value}
		if k, ok := rec[cfg.KeyField]; ok && k != nil {
			msg.Key = fmt.Append(nil, k)
		}
		if msgs = append(msgs, msg); len(msgs) == 500 {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		_ = flush()
		return res, fmt.Errorf("reading records: %w", err)
	}
	err = flush()
	res.Elapsed = time.Since(start)
	return res, err
}
