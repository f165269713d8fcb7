package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/sluice-ml/sluice/devstack"
)

func cmdDemo(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var dc devstack.DemoConfig
	fs.IntVar(&dc.Events, "events", 50000, "events to publish")
	fs.IntVar(&dc.DriftAfter, "drift-after", 15000, "events published before the drift starts")
	fs.StringVar(&dc.DriftFeatures, "drift-features", "ip_risk_score,merchant_risk", "features that drift (empty: none)")
	fs.Float64Var(&dc.DriftShift, "drift-shift", 3, "drift of numeric features, in training standard deviations")
	fs.IntVar(&dc.ConceptAfter, "concept-drift-after", -1, "events published before the labelling rule changes while no feature moves (-1: never)")
	fs.Float64Var(&dc.Rate, "rate", 10000, "events per second (0 = as fast as possible)")
	fs.Int64Var(&dc.Seed, "seed", 7, "generator seed (the demo model trains on seed 1)")
	verbose := fs.Bool("v", false, "log every part's messages")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	dc.Out = os.Stdout
	s, err := devstack.Demo(ctx, dc, log)
	if err != nil {
		return err
	}
	fmt.Printf("sluice demo: %s\n", s)
	if s.Lost != 0 {
		return fmt.Errorf("demo lost %d events", s.Lost)
	}
	return nil
}
