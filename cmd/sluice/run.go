package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/security"
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
	red := security.RedactorFor(c)
	if err != nil {
		return red.Error(err)
	}
	log = newLogger(c.Log, red)
	return red.Error(server.Run(ctx, c, log, nil))
}

func cmdConfig(_ context.Context, args []string, _ *slog.Logger) error {
	return runConfig(args, os.Stdout)
}

// runConfig prints every key, its value (secrets redacted) and its
// variable to out.
func runConfig(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.SetOutput(out)
	path, set := configFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := loadConfig(*path, set())
	red := security.RedactorFor(c)
	if err != nil {
		return red.Error(err)
	}
	c.Pipeline = c.Pipeline.WithDefaults() // derived values, e.g. dlq_topic from input_topic
	c.Kafka.Consumer = c.Kafka.Consumer.WithDefaults()
	for _, kv := range c.Keys() {
		fmt.Fprintf(out, "%-34s %-40s %s\n", kv[0], red.String(kv[1]), config.EnvName(kv[0]))
	}
	// Every route as it is served (routes[0] is the one route of a file
	// without routes:, from the keys above); routes are set in the file.
	for _, kv := range c.RouteKeys() {
		fmt.Fprintf(out, "%-34s %-40s %s\n", kv[0], red.String(kv[1]), "-")
	}
	return nil
}

// newLogger is the process's logger for c, with red's secrets (and those
// of SLUICE_* variables) redacted from every record.
func newLogger(c config.Log, red *security.Redactor) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.Format == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	red.Merge(security.RedactorFromEnv(os.Environ()))
	return slog.New(red.Handler(h))
}
