package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/server"
)

// loadConfig applies, in order: the file, the flags that were set, then
// SLUICE_* environment variables.
func loadConfig(path string, set map[string]string) (config.Config, error) {
	c, err := config.Load(path)
	if err != nil {
		return c, err
	}
	for k, v := range set {
		if err := c.Set(k, v); err != nil {
			return c, fmt.Errorf("flag for %s: %w", k, err)
		}
	}
	if err := c.ApplyEnv(os.Environ()); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// configFlags declares the common knobs as flags named after their keys.
func configFlags(fs *flag.FlagSet) (path *string, set func() map[string]string) {
	path = fs.String("config", "", "path to sluice.yaml")
	keys := map[string]string{
		"brokers":        "kafka.brokers",
		"redis-url":      "redis.url",
		"registry-url":   "registry.url",
		"model-name":     "model.name",
		"model-version":  "model.version",
		"model-dir":      "model.dir",
		"provider":       "inference.provider",
		"group":          "pipeline.group",
		"input-topic":    "pipeline.input_topic",
		"output-topic":   "pipeline.output_topic",
		"max-batch-size": "pipeline.batch.max_batch_size",
		"max-delay":      "pipeline.batch.max_delay",
		"http-addr":      "admin.addr",
	}
	vals := map[string]*string{}
	for flagName, key := range keys {
		vals[flagName] = fs.String(flagName, "", "overrides "+key)
	}
	return path, func() map[string]string {
		out := map[string]string{}
		fs.Visit(func(f *flag.Flag) {
			if key, ok := keys[f.Name]; ok {
				out[key] = strings.TrimSpace(*vals[f.Name])
			}
		})
		return out
	}
}

func cmdRun(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path, set := configFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := loadConfig(*path, set())
	if err != nil {
		return err
	}
	log = newLogger(c.Log)
	return server.Run(ctx, c, log, nil)
}

func cmdConfig(_ context.Context, args []string, _ *slog.Logger) error {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	path, set := configFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := loadConfig(*path, set())
	if err != nil {
		return err
	}
	for _, kv := range c.Keys() {
		fmt.Printf("%-34s %-40s %s\n", kv[0], kv[1], config.EnvName(kv[0]))
	}
	return nil
}

func newLogger(c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
