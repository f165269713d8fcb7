package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/devstack"
	"github.com/sluice-ml/sluice/security"
)

func cmdDev(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	var c devstack.Config
	fs.StringVar(&c.DataDir, "data-dir", ".sluice", "where the broker log, Redis data and models live")
	fs.StringVar(&c.KafkaAddr, "kafka-addr", "127.0.0.1:9092", "Kafka protocol listen address")
	fs.StringVar(&c.RegistryAddr, "registry-addr", "127.0.0.1:8081", "schema registry listen address")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8080", "admin HTTP listen address (/metrics, /healthz, /readyz)")
	fs.StringVar(&c.RedisURL, "redis-url", "", "use this Redis instead of starting redis-server")
	partitions := fs.Int("partitions", 4, "partitions of the topics created at start and of those created on first use")
	autoCreate := fs.Bool("auto-create-topics", true, "create a topic the first time a client asks for it (Kafka's auto.create.topics.enable)")
	fs.Int64Var(&c.Broker.RetentionMs, "retention-ms", devstack.DefaultRetentionMs, "delete records older than this many milliseconds (Kafka's log.retention.ms; -1: keep)")
	fs.Int64Var(&c.Broker.RetentionBytes, "retention-bytes", devstack.DefaultRetentionBytes, "keep at most this many bytes per partition, deleting the oldest (Kafka's log.retention.bytes; -1: no limit)")
	fs.Int64Var(&c.Broker.SegmentBytes, "segment-bytes", devstack.DefaultSegmentBytes, "roll a partition's log file at this size; retention deletes whole files (Kafka's log.segment.bytes)")
	fs.DurationVar(&c.Broker.RetentionCheck, "retention-check", devstack.DefaultRetentionCheck, "how often retention runs (Kafka's log.retention.check.interval.ms)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.Partitions = int32(*partitions)
	c.NoAutoCreate = !*autoCreate
	c.Worker = config.Default()
	red := security.RedactorFor(c.Worker)
	if err := c.Worker.ApplyEnv(os.Environ()); err != nil {
		return red.Error(err)
	}
	red = security.RedactorFor(c.Worker)
	if pw, ok := config.URLPassword(c.RedisURL); ok {
		red.Add(pw)
	}
	log = red.Logger(log)
	return red.Error(devstack.Run(ctx, c, log, func(a devstack.Addrs) {
		created := "on first use"
		if c.NoAutoCreate {
			created = "at start only"
		}
		wp := c.Worker.Pipeline.WithDefaults()
		fmt.Printf(`sluice dev is running (Ctrl-C to stop)
  kafka        %s   (in-process broker, data in %s; retention %s, %s per partition)
  registry     %s
  redis        %s
  admin        %s   (/metrics /healthz /readyz)
  topics       %s (input), %s (output), %s (dead letters); others created %s
  model        %s version %s on %s (%s)
try:
  bin/sluice produce --brokers %s --registry-url %s --count 1000
  bin/sluice tail --brokers %s --registry-url %s predictions
`, a.Kafka, a.DataDir, retentionText(c.Broker.RetentionMs), bytesText(c.Broker.RetentionBytes),
			a.RegistryURL, config.RedactURL(a.RedisURL), a.AdminURL,
			wp.InputTopic, wp.OutputTopic, wp.DLQTopic, created,
			a.Ready.Model.Name(), a.Ready.Model.Version(), a.Ready.Model.Provider(), a.ModelDir,
			a.Kafka, a.RegistryURL, a.Kafka, a.RegistryURL)
	}))
}

// retentionText says what --retention-ms keeps.
func retentionText(ms int64) string {
	if ms < 0 {
		return "forever"
	}
	return fmt.Sprint(time.Duration(ms) * time.Millisecond)
}

// bytesText says what --retention-bytes keeps.
func bytesText(n int64) string {
	switch {
	case n < 0:
		return "any size"
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
