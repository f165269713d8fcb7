package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluice-ml/sluice/internal/testkit"
)

// `sluice topics create` creates each topic with the partitions asked for
// and leaves one that exists as it is.
func TestTopicsCreate(t *testing.T) {
	k := testkit.StartKafka(t, kfake.DefaultNumPartitions(1))
	k.CreateTopic(t, "iris", 2)
	var out bytes.Buffer
	err := runTopics(t.Context(), []string{"create", "iris-predictions", "iris.dlq", "iris", "--partitions", "3", "--brokers", k.Addr}, &out, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if want := "created iris-predictions (3 partitions)\ncreated iris.dlq (3 partitions)\niris exists already\n"; out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	for topic, want := range map[string]int{"iris-predictions": 3, "iris.dlq": 3, "iris": 2} {
		if got := len(k.Cluster.PartitionInfos(topic)); got != want {
			t.Errorf("%s has %d partitions, want %d", topic, got, want)
		}
	}
	if err := runTopics(t.Context(), []string{"create", "--brokers", k.Addr}, &out, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("no topic named: %v", err)
	}
}
