package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
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
	cfgPath := fs.String("config", "", "a sluice.yaml whose routes (and pipeline, model, drift keys) the stack's worker serves; its kafka, registry, redis and admin addresses are the stack's")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.Partitions = int32(*partitions)
	c.NoAutoCreate = !*autoCreate
	var err error
	if c.Worker, err = config.Load(*cfgPath); err != nil {
		return err
	}
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
		wp := c.Worker.Effective()[0].Pipeline // the first route's (the only one without routes:)
		model := "none loaded yet"
		if m := a.Ready.Model; m != nil {
			model = fmt.Sprintf("%s version %s on %s", m.Name(), m.Version(), m.Provider())
		}
		fmt.Printf(`sluice dev is running (Ctrl-C to stop)
  kafka        %s   (in-process broker, data in %s; retention %s, %s per partition)
  registry     %s
  redis        %s
  admin        %s   (/metrics /healthz /readyz)
  topics       %s (input), %s (output), %s (dead letters); others created %s
  model        %s (%s)
%stry:
  bin/sluice produce --brokers %s --registry-url %s --count 1000
  bin/sluice tail --brokers %s --registry-url %s predictions
`, a.Kafka, a.DataDir, retentionText(c.Broker.RetentionMs), bytesText(c.Broker.RetentionBytes),
			a.RegistryURL, config.RedactURL(a.RedisURL), a.AdminURL,
			wp.InputTopic, wp.OutputTopic, wp.DLQTopic, created,
			model, a.ModelDir, routesText(c.Worker),
			a.Kafka, a.RegistryURL, a.Kafka, a.RegistryURL)
	}))
}

// routesText lists a config's routes, one a line, or "" for a config
// without routes (the lines above describe its one route).
func routesText(c config.Config) string {
	if len(c.Routes) == 0 {
		return ""
	}
	var b strings.Builder
	for _, r := range c.Effective() {
		fmt.Fprintf(&b, "  route        %s: %s → model %s → %s (group %s, dead letters %s)\n",
			r.Name, r.Pipeline.InputTopic, r.Model.Name, r.Pipeline.OutputTopic, r.Pipeline.Group, r.Pipeline.DLQTopic)
	}
	return b.String()
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
