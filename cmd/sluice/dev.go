package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/devstack"
)

func cmdDev(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	var c devstack.Config
	fs.StringVar(&c.DataDir, "data-dir", ".sluice", "where the broker log, Redis data and models live")
	fs.StringVar(&c.KafkaAddr, "kafka-addr", "127.0.0.1:9092", "Kafka protocol listen address")
	fs.StringVar(&c.RegistryAddr, "registry-addr", "127.0.0.1:8081", "schema registry listen address")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8080", "admin HTTP listen address (/metrics, /healthz, /readyz)")
	fs.StringVar(&c.RedisURL, "redis-url", "", "use this Redis instead of starting redis-server")
	partitions := fs.Int("partitions", 4, "partitions of the topics created at start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.Partitions = int32(*partitions)
	c.Worker = config.Default()
	if err := c.Worker.ApplyEnv(os.Environ()); err != nil {
		return err
	}
	return devstack.Run(ctx, c, log, func(a devstack.Addrs) {
		fmt.Printf(`sluice dev is running (Ctrl-C to stop)
  kafka        %s   (in-process broker, data in %s)
  registry     %s
  redis        %s
  admin        %s   (/metrics /healthz /readyz)
  topics       features (input), predictions (output), features.dlq (dead letters)
  model        %s version %s on %s (%s)
try:
  bin/sluice produce --brokers %s --registry-url %s --count 1000
  bin/sluice tail --brokers %s --registry-url %s predictions
`, a.Kafka, a.DataDir, a.RegistryURL, a.RedisURL, a.AdminURL,
			a.Ready.Model.Name(), a.Ready.Model.Version(), a.Ready.Model.Provider(), a.ModelDir,
			a.Kafka, a.RegistryURL, a.Kafka, a.RegistryURL)
	})
}
