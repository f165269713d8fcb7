package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/schemas"
)

func cmdTail(ctx context.Context, args []string, _ *slog.Logger) error {
	return tail(ctx, args, os.Stdout)
}

// tail prints the records of a topic to w as JSON lines.
func tail(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	brokers := fs.String("brokers", "127.0.0.1:9092", "comma-separated broker addresses")
	registry := fs.String("registry-url", "http://127.0.0.1:8081", "schema registry URL")
	fromStart := fs.Bool("from-beginning", true, "start at the oldest record (false: only new records)")
	limit := fs.Int("n", 0, "stop after this many records (0 = follow)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: sluice tail [flags] TOPIC")
	}
	topic := fs.Arg(0)
	start := kafka.LastOffset
	if *fromStart {
		start = kafka.FirstOffset
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: strings.Split(*brokers, ","), Topic: topic,
		GroupID:     fmt.Sprintf("sluice-tail-%d", time.Now().UnixNano()),
		StartOffset: start, MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 100 * time.Millisecond,
	})
	defer r.Close()
	dec := schemas.NewDecoder(schemas.NewClient(*registry, nil), 64<<20)
	enc := json.NewEncoder(w)
	for n := 0; *limit == 0 || n < *limit; n++ {
		msg, err := r.FetchMessage(ctx)
		if err != nil {
			return err
		}
		out := map[string]any{"partition": msg.Partition, "offset": msg.Offset, "key": string(msg.Key)}
		if len(msg.Headers) > 0 {
			h := map[string]string{}
			for _, kv := range msg.Headers {
				h[kv.Key] = string(kv.Value)
			}
			out["headers"] = h
		}
		if rec, id, err := dec.Decode(ctx, msg.Value); err == nil {
			out["schema_id"], out["value"] = id, jsonable(rec)
		} else {
			out["error"], out["raw"] = err.Error(), msg.Value
		}
		if err := enc.Encode(out); err != nil {
			// A value JSON cannot hold: say so on its line and go on.
			line := map[string]any{"partition": msg.Partition, "offset": msg.Offset, "key": string(msg.Key), "error": err.Error(), "raw": msg.Value}
			if err := enc.Encode(line); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonable turns decoded values into what encoding/json prints: times in
// RFC 3339, and NaN and infinities (which JSON has no numbers for, and which
// dead letters of class non_finite hold) as the strings "NaN", "+Inf" and
// "-Inf".
func jsonable(v any) any {
	switch x := v.(type) {
	case float64:
		return number(x)
	case float32:
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return number(f)
		}
		return x
	case []float64:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = number(e)
		}
		return s
	case []float32:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = jsonable(e)
		}
		return s
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = jsonable(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = jsonable(e)
		}
		return s
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	default:
		return v
	}
}

// number is f, or its name when JSON has no number for it.
func number(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return f
}
