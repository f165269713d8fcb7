package retrain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/schemas"
)

// ExportConfig says what Export reads. Zero fields take the defaults named
// beside them.
type ExportConfig struct {
	Brokers []string
	// Dialer opens the Kafka connections (TLS, SASL); nil is plain TCP.
	Dialer *kafka.Dialer
	// Request is the event_id of the RetrainRequested to export for.
	Request string
	// RequestsTopic (default retrain-requests) is searched for it, and
	// LabelsTopic (default labels) read whole.
	RequestsTopic string
	LabelsTopic   string
}

// ExportDeps are the services Export reads; all are required.
type ExportDeps struct {
	Schemas  *schemas.Client
	Features KeptFeatures
}

// ExportResult is what Export wrote and passed over. It is plain data.
type ExportResult struct {
	Request Request
	// From is where the exported traffic starts (TrainFrom); zero exports
	// every labelled event that was kept.
	From time.Time
	Rows int
	// Labels is the labels read; Unkept had no kept input (never kept, or
	// expired), Before happened before From, Invalid could not be read,
	// and OtherSchema were written with another schema than the file's and
	// could not be re-encoded by field name.
	Labels, Unkept, Before, Invalid, OtherSchema int
	// Schema is the Avro schema of the file's records.
	Schema string
}

// labelledSchema is the schema of one exported row: the label fields, the
// event's time, and the input event as it was written (event).
func labelledSchema(event string) string {
	return `{"type": "record", "name": "LabelledEvent", "namespace": "sluice.export",
 "doc": "One labelled input event of a retrain request, exported by sluice retrain export.",
 "fields": [
  {"name": "event_id", "type": "string"},
  {"name": "label", "type": ["null", "int"], "default": null, "doc": "The true class as an index into the model's classes."},
  {"name": "label_name", "type": ["null", "string"], "default": null, "doc": "The true class by name, when label is null."},
  {"name": "value", "type": ["null", "double"], "default": null, "doc": "The true value, for a score model."},
  {"name": "label_time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "The event's event_time, else its label's time: what the request's onset is compared with."},
  {"name": "event", "type": ` + event + `, "doc": "The input event, with the schema it was written with."}
 ]}`
}

// Export writes the joined labelled rows of a retrain request to w as an
// Avro object container file (schema included, deflate): every label on
// LabelsTopic whose event a worker kept and that happened at or after the
// request's TrainFrom, oldest event first, with the event as it was
// written. The file's event schema is the writer schema of the first
// row; rows written with another are re-encoded into it by field name, or
// counted and passed over. It is what an external trainer reads; it does
// not need the retrainer to run.
func Export(ctx context.Context, cfg ExportConfig, deps ExportDeps, w io.Writer) (ExportResult, error) {
	var res ExportResult
	if cfg.RequestsTopic == "" {
		cfg.RequestsTopic = DefaultRequestsTopic
	}
	if cfg.LabelsTopic == "" {
		cfg.LabelsTopic = DefaultLabelsTopic
	}
	if len(cfg.Brokers) == 0 || cfg.Request == "" || deps.Schemas == nil || deps.Features == nil {
		return res, errors.New("retrain: export needs brokers, a request id, the schema registry and the kept features")
	}
	dec := schemas.NewDecoder(deps.Schemas, 0)
	found := false
	err := readTopic(ctx, cfg.Brokers, cfg.Dialer, cfg.RequestsTopic, func(m kafka.Message) {
		if rec, _, err := dec.Decode(ctx, m.Value); err == nil && rec["event_id"] == cfg.Request {
			if req, err := ParseRequest(rec); err == nil {
				res.Request, found = req, true
			}
		}
	})
	if err != nil {
		return res, err
	}
	if !found {
		return res, fmt.Errorf("retrain: request %s is not on %s", cfg.Request, cfg.RequestsTopic)
	}
	res.From = TrainFrom(res.Request)

	labels := map[string]quality.Label{}
	var order []string
	err = readTopic(ctx, cfg.Brokers, cfg.Dialer, cfg.LabelsTopic, func(m kafka.Message) {
		res.Labels++
		rec, _, err := dec.Decode(ctx, m.Value)
		if err != nil {
			res.Invalid++
			return
		}
		l, err := quality.ParseLabel(rec)
		if err != nil {
			res.Invalid++
			return
		}
		if _, ok := labels[l.EventID]; !ok {
			order = append(order, l.EventID)
		}
		labels[l.EventID] = l // a later label for the same event wins
	})
	if err != nil {
		return res, err
	}
	values, err := deps.Features.Lookup(ctx, order)
	if err != nil {
		return res, fmt.Errorf("reading kept features: %w", err)
	}
	rows, err := exportRows(ctx, deps.Schemas, labels, order, values, res.From, &res)
	if err != nil {
		return res, err
	}
	return res, writeOCF(w, rows, &res)
}

// exportRow is one row before encoding: its goavro native event and the
// writer schema id of the event.
type exportRow struct {
	label  quality.Label
	at     time.Time
	id     int32
	native any
}

// exportRows decodes the kept events with goavro (native form, for the
// file) and keeps those since from.
func exportRows(ctx context.Context, c *schemas.Client, labels map[string]quality.Label, order []string, values [][]byte, from time.Time, res *ExportResult) ([]exportRow, error) {
	codecs := map[int32]*goavro.Codec{}
	var rows []exportRow
	for i, id := range order {
		if values[i] == nil {
			res.Unkept++
			continue
		}
		sid, body, err := schemas.ParseFrame(values[i])
		if err != nil {
			res.Invalid++
			continue
		}
		codec := codecs[sid]
		if codec == nil {
			text, err := c.SchemaByID(ctx, sid)
			if err != nil {
				return nil, fmt.Errorf("reading the schema of kept events: %w", err)
			}
			if codec, err = goavro.NewCodec(text); err != nil {
				res.Invalid++
				continue
			}
			codecs[sid] = codec
		}
		native, _, err := codec.NativeFromBinary(body)
		if err != nil {
			res.Invalid++
			continue
		}
		l := labels[id]
		at := l.Time
		if m, ok := native.(map[string]any); ok {
			if t, ok := m[EventTimeField].(time.Time); ok && !t.IsZero() {
				at = t
			}
		}
		if !from.IsZero() && at.Before(from) {
			res.Before++
			continue
		}
		rows = append(rows, exportRow{label: l, at: at, id: sid, native: native})
	}
	slices.SortStableFunc(rows, func(a, b exportRow) int { return a.at.Compare(b.at) })
	if len(rows) > 0 {
		text, err := c.SchemaByID(ctx, rows[0].id)
		if err != nil {
			return nil, err
		}
		res.Schema = labelledSchema(compact(text))
	}
	return rows, nil
}

// compact is a JSON schema text without insignificant white space.
func compact(text string) string {
	var v any
	if json.Unmarshal([]byte(text), &v) != nil {
		return text
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// writeOCF writes rows as an object container file.
func writeOCF(w io.Writer, rows []exportRow, res *ExportResult) error {
	if res.Schema == "" {
		res.Schema = labelledSchema(`{"type": "record", "name": "Empty", "fields": []}`)
	}
	ocf, err := goavro.NewOCFWriter(goavro.OCFConfig{W: w, Schema: res.Schema, CompressionName: goavro.CompressionDeflateLabel})
	if err != nil {
		return fmt.Errorf("writing the export: %w", err)
	}
	const block = 1000
	batch := make([]any, 0, block)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := ocf.Append(batch)
		batch = batch[:0]
		return err
	}
	for _, r := range rows {
		rec := map[string]any{"event_id": r.label.EventID, "label_time": r.label.Time, "event_time": r.at, "event": r.native,
			"label": nil, "label_name": nil, "value": nil}
		switch {
		case r.label.Class >= 0:
			rec["label"] = map[string]any{"int": int32(r.label.Class)}
		case r.label.Name != "":
			rec["label_name"] = map[string]any{"string": r.label.Name}
		}
		if r.label.HasValue {
			rec["value"] = map[string]any{"double": r.label.Value}
		}
		if r.id != rows[0].id {
			// Another writer schema: append alone, so that one that does not
			// fit is passed over without losing the block.
			if err := flush(); err != nil {
				return fmt.Errorf("writing the export: %w", err)
			}
			if err := ocf.Append([]any{rec}); err != nil {
				res.OtherSchema++
				continue
			}
			res.Rows++
			continue
		}
		batch = append(batch, rec)
		res.Rows++
		if len(batch) == block {
			if err := flush(); err != nil {
				return fmt.Errorf("writing the export: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("writing the export: %w", err)
	}
	return nil
}

// readTopic calls fn with every message that was on topic when it began,
// partition by partition, without a consumer group.
func readTopic(ctx context.Context, brokers []string, dialer *kafka.Dialer, topic string, fn func(kafka.Message)) error {
	if dialer == nil {
		dialer = &kafka.Dialer{Timeout: 10 * time.Second}
	}
	conn, err := dialer.DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		return fmt.Errorf("reading %s: %w", topic, err)
	}
	parts, err := conn.ReadPartitions(topic)
	_ = conn.Close()
	if err != nil {
		return fmt.Errorf("reading the partitions of %s: %w", topic, err)
	}
	for _, p := range parts {
		if err := readPartition(ctx, brokers, dialer, topic, p.ID, fn); err != nil {
			return err
		}
	}
	return nil
}

func readPartition(ctx context.Context, brokers []string, dialer *kafka.Dialer, topic string, partition int, fn func(kafka.Message)) error {
	lc, err := dialer.DialLeader(ctx, "tcp", brokers[0], topic, partition)
	if err != nil {
		return fmt.Errorf("reading %s partition %d: %w", topic, partition, err)
	}
	first, last, err := lc.ReadOffsets()
	_ = lc.Close()
	if err != nil {
		return fmt.Errorf("reading the offsets of %s partition %d: %w", topic, partition, err)
	}
	if last <= first {
		return nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Dialer: dialer, Topic: topic, Partition: partition,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	if err := r.SetOffset(first); err != nil {
		return err
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return fmt.Errorf("reading %s partition %d: %w", topic, partition, err)
		}
		fn(m)
		if m.Offset+1 >= last {
			return nil
		}
	}
}
