package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/loadgen"
)

func cmdProduce(ctx context.Context, args []string, _ *slog.Logger) error {
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	brokers := fs.String("brokers", "127.0.0.1:9092", "comma-separated broker addresses")
	registry := fs.String("registry-url", "http://127.0.0.1:8081", "schema registry URL")
	topic := fs.String("topic", "features", "topic to publish to")
	count := fs.Int("count", 1000, "events to publish (0 = until interrupted)")
	rate := fs.Float64("rate", 0, "events per second (0 = as fast as possible)")
	seed := fs.Int64("seed", time.Now().UnixNano(), "generator seed")
	driftAfter := fs.Int("drift-after", 0, "events sent before the drift starts")
	driftFeatures := fs.String("drift-features", "", "comma-separated features to drift (numeric features shift; channel changes its mix)")
	driftShift := fs.Float64("drift-shift", 1, "shift of drifted numeric features, in training standard deviations")
	labels := fs.Bool("labels", false, "also publish each event's ground truth to the labels topic, for the retrainer")
	labelDelay := fs.Duration("label-delay", 0, "publish each label this long after its event (ground truth arrives late)")
	conceptAfter := fs.Int("concept-drift-after", -1, "events sent before the labelling rule changes while no feature moves (concept drift; -1: never)")
	jsonFile := fs.String("json", "", "publish your own records instead: a file of JSON objects, one per line (- for stdin), encoded with --schema")
	schemaFile := fs.String("schema", "", "with --json: the records' Avro schema (.avsc), registered under TOPIC-value")
	keyField := fs.String("key", "entity_id", "with --json: the field whose value keys each message")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *jsonFile != "" || *schemaFile != "" {
		return produceJSON(ctx, strings.Split(*brokers, ","), *registry, *topic, *jsonFile, *schemaFile, *keyField)
	}
	var opts []demo.Option
	opt, err := loadgen.ParseDrift(*driftAfter, *driftFeatures, *driftShift)
	if err != nil {
		return err
	}
	if opt != nil {
		opts = append(opts, opt)
	}
	if opt := loadgen.ParseConcept(*conceptAfter); opt != nil {
		if !*labels {
			return fmt.Errorf("--concept-drift-after changes only the labels: add --labels")
		}
		opts = append(opts, opt)
	}
	last := time.Now()
	res, err := loadgen.Run(ctx, loadgen.Config{
		Brokers: strings.Split(*brokers, ","), RegistryURL: *registry, Topic: *topic,
		Count: *count, Rate: *rate, Seed: *seed, Options: opts, Labels: *labels, LabelDelay: *labelDelay,
		Progress: func(n int) {
			if time.Since(last) > time.Second {
				last = time.Now()
				fmt.Fprintf(os.Stderr, "\rpublished %d", n)
			}
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "\rpublished %d events to %s in %s (%.0f/s, schema id %d)\n",
		res.Sent, *topic, res.Elapsed.Round(time.Millisecond), float64(res.Sent)/res.Elapsed.Seconds(), res.SchemaID)
	if *labels {
		fmt.Fprintf(os.Stderr, "published %d labels to %s\n", res.Labels, loadgen.DefaultLabelsTopic)
	}
	return nil
}

// produceJSON is `sluice produce --json FILE --schema FILE.avsc`: the
// user's own records, published to topic.
func produceJSON(ctx context.Context, brokers []string, registryURL, topic, jsonFile, schemaFile, keyField string) error {
	if jsonFile == "" || schemaFile == "" {
		return fmt.Errorf("produce: give both --json FILE (one JSON object per line) and --schema FILE.avsc")
	}
	schema, err := os.ReadFile(schemaFile)
	if err != nil {
		return fmt.Errorf("produce: --schema: %w", err)
	}
	in := os.Stdin
	if jsonFile != "-" {
		if in, err = os.Open(jsonFile); err != nil {
			return fmt.Errorf("produce: --json: %w", err)
		}
		defer in.Close()
	}
	res, err := loadgen.PublishJSON(ctx, loadgen.JSONConfig{Brokers: brokers, RegistryURL: registryURL, Topic: topic,
		Schema: string(schema), KeyField: keyField}, in)
	fmt.Fprintf(os.Stderr, "published %d records to %s (schema id %d, subject %s-value)\n", res.Sent, topic, res.SchemaID, topic)
	if err != nil {
		return fmt.Errorf("produce: %s: %w", jsonFile, err)
	}
	return nil
}
