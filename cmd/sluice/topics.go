package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/security"
)

const topicsUsage = `Usage: sluice topics create TOPIC... [--partitions N] [--replication-factor N] [--brokers ADDRS | --config sluice.yaml]

Creates topics (a worker's output and dead-letter topics, say: a worker does
not create them, and is not ready while one is missing). A topic that exists
already is left as it is. The brokers and their TLS and SASL settings come
from the config, as for 'sluice run'.
`

// cmdTopics is `sluice topics create`.
func cmdTopics(ctx context.Context, args []string, log *slog.Logger) error {
	return runTopics(ctx, args, os.Stdout, log)
}

func runTopics(ctx context.Context, args []string, out io.Writer, log *slog.Logger) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(out, topicsUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return errors.New("topics: the command is create")
	}
	fs := flag.NewFlagSet("topics create", flag.ContinueOnError)
	fs.SetOutput(out)
	path, set := configFlags(fs)
	partitions := fs.Int("partitions", 4, "partitions of each new topic")
	replication := fs.Int("replication-factor", 1, "replicas of each partition")
	names, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return errors.New("usage: sluice topics create TOPIC... [--partitions N]")
	}
	c, err := loadConfig(*path, set())
	red := security.RedactorFor(c)
	if err != nil {
		return red.Error(err)
	}
	_, tr, err := security.Kafka(c.Kafka, log)
	if err != nil {
		return red.Error(err)
	}
	defer tr.CloseIdleConnections()
	req := &kafka.CreateTopicsRequest{}
	for _, n := range names {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: n, NumPartitions: *partitions, ReplicationFactor: *replication})
	}
	client := &kafka.Client{Addr: kafka.TCP(c.Kafka.Brokers...), Transport: tr, Timeout: 30 * time.Second}
	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return red.Error(fmt.Errorf("topics: creating at %v: %w", c.Kafka.Brokers, err))
	}
	var errs []error
	for _, n := range names {
		switch err := resp.Errors[n]; {
		case err == nil:
			fmt.Fprintf(out, "created %s (%d partitions)\n", n, *partitions)
		case errors.Is(err, kafka.TopicAlreadyExists):
			fmt.Fprintf(out, "%s exists already\n", n)
		default:
			errs = append(errs, fmt.Errorf("topic %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}
