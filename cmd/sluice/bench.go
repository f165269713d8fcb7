package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/sluice-ml/sluice/bench"
	"github.com/sluice-ml/sluice/inference"
)

func cmdBench(ctx context.Context, args []string, _ *slog.Logger) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "short runs (under a minute)")
	jsonPath := fs.String("json", "", "also write the figures to this JSON file")
	models := fs.String("models", "demo,heavy", "models to run: demo, heavy")
	provider := fs.String("provider", "auto", "ONNX Runtime execution provider: auto, cpu, cuda")
	threads := fs.Int("threads", 0, "ONNX Runtime thread budget of the process, as inference.thread_budget (0 = GOMAXPROCS)")
	sessions := fs.Int("sessions", 0, "ONNX Runtime sessions per model, as inference.sessions (0 = the worker's default)")
	partitions := fs.Int("partitions", 4, "partitions of the input topic")
	driftSample := fs.Int("drift-sample-every", 1, "drift.sample_every in the drift-on run")
	driftMaxRate := fs.Int("drift-max-rate", 0, "drift.max_rate in the drift-on run (0: its default; -1: every event)")
	routesOnly := fs.Bool("routes-only", false, "run only the routes rows (1 and 4 demo-model routes in one process)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// The bench's own parts log nothing; ONNX Runtime's provider fallback
	// line still reaches stderr once.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if *routesOnly {
		r, err := bench.RunRoutes(ctx, bench.Options{Quick: *quick, Provider: inference.Provider(*provider),
			Threads: *threads, Partitions: int32(*partitions), Progress: os.Stderr})
		if err != nil {
			return err
		}
		bench.WriteRoutesTable(os.Stdout, r)
		return nil
	}
	res, err := bench.Run(ctx, bench.Options{
		Quick: *quick, Models: strings.Split(*models, ","), Provider: inference.Provider(*provider),
		Threads: *threads, Sessions: *sessions, Partitions: int32(*partitions), Progress: os.Stderr, DriftSampleEvery: *driftSample, DriftMaxRate: *driftMaxRate,
	})
	if err != nil {
		return err
	}
	bench.WriteTable(os.Stdout, res)
	if *jsonPath != "" {
		byModel := map[string]bench.Result{}
		for _, r := range res {
			byModel[r.Model] = r
		}
		b, err := json.MarshalIndent(byModel, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", *jsonPath)
	}
	return nil
}
