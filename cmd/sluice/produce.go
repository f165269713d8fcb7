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
	if err := fs.Parse(args); err != nil {
		return err
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
