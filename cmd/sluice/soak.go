package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/security"
	"github.com/sluice-ml/sluice/soak"
)

// cmdSoak is `sluice soak`: sluice dev under a steady labelled load,
// sampled until the duration has passed.
func cmdSoak(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	duration := fs.Duration("duration", time.Hour, "how long the load runs")
	rate := fs.Float64("rate", 20000, "events per second, each with its label")
	interval := fs.Duration("interval", 0, "how often to sample (default duration/60, at least 5s)")
	warmUp := fs.Duration("warm-up", 0, "left out of the flatness verdicts (default a fifth of the duration, at most 5m)")
	dir := fs.String("dir", "", "where the dev stack's data and the logs go (default a new temporary directory, removed afterwards unless --keep)")
	keep := fs.Bool("keep", false, "keep the data directory and logs")
	jsonPath := fs.String("json", "", "also write the samples and verdicts as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("soak: finding this binary: %w", err)
	}
	work := *dir
	if work == "" {
		if work, err = os.MkdirTemp("", "sluice-soak-"); err != nil {
			return fmt.Errorf("soak: %w", err)
		}
		if !*keep {
			defer os.RemoveAll(work)
		}
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	dataDir := filepath.Join(work, "data")
	fmt.Printf("sluice soak: sluice dev in %s, %.0f labelled events/s for %s (logs: %s)\n", dataDir, *rate, *duration, work)

	dev, err := soak.StartDev(ctx, bin, dataDir, nil, 5*time.Minute)
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	defer func() {
		if err := dev.Stop(60 * time.Second); err != nil {
			log.Warn("sluice dev stopped with an error", "err", err)
		}
	}()
	procs := []soak.Process{{Name: "sluice dev", PID: dev.PID()}}
	if pid, err := dev.RedisPID(); err == nil {
		procs = append(procs, soak.Process{Name: "redis-server", PID: pid})
	} else {
		log.Warn("not following Redis's process", "err", err)
	}
	rdb, err := security.NewRedis(config.Redis{URL: dev.RedisURL}, log)
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	defer rdb.Close()
	producer, err := soak.StartProducer(bin, dev, *rate, filepath.Join(work, "producer.log"))
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	defer func() { _ = producer.Stop(30 * time.Second) }()
	procs = append(procs, soak.Process{Name: "producer", PID: producer.PID()})

	// A child that dies ends the soak: what it measured would mean nothing.
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-dev.Exited():
			cancel(errors.New("sluice dev exited during the soak"))
		case <-producer.Exited():
			cancel(errors.New("the producer exited during the soak"))
		case <-rctx.Done():
		}
	}()
	kc := &kafka.Client{Addr: kafka.TCP(dev.Kafka), Timeout: 10 * time.Second}
	rep, err := soak.Run(rctx, soak.Config{
		Duration: *duration, Interval: *interval, WarmUp: *warmUp, Processes: procs,
		Redis: rdb, DataDir: dataDir, Out: os.Stdout,
		Offsets: soak.Offsets{Client: kc, Input: "features", Output: "predictions", Group: "sluice"},
	})
	if cause := context.Cause(rctx); cause != nil && ctx.Err() == nil {
		return fmt.Errorf("soak: %w (logs in %s)", cause, work)
	}
	if err != nil {
		return err
	}
	if *jsonPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonPath, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("soak: %w", err)
		}
	}
	if !rep.OK {
		return errors.New("soak: memory did not stay flat, or Redis reached its limit (see the verdicts above)")
	}
	return nil
}
