package testkit

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Kafka is an in-process Kafka-protocol broker reachable over TCP.
type Kafka struct {
	Cluster *kfake.Cluster
	// Addr is host:port of the single broker.
	Addr string
	opts []kfake.Opt
}

// StartKafka starts a one-broker kfake cluster on a free loopback port and
// stops it when the test ends. Extra options (kfake.DataDir, kfake.EnableSASL,
// ...) are passed through.
func StartKafka(t testing.TB, opts ...kfake.Opt) *Kafka {
	t.Helper()
	port := FreePort(t)
	all := append([]kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port), kfake.DefaultNumPartitions(4)}, opts...)
	c, err := kfake.NewCluster(all...)
	if err != nil {
		t.Fatalf("testkit: starting kfake: %v", err)
	}
	k := &Kafka{Cluster: c, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), opts: all}
	t.Cleanup(func() { k.Cluster.Close() })
	return k
}

// CreateTopic creates topic with the given partition count.
func (k *Kafka) CreateTopic(t testing.TB, topic string, partitions int32) {
	t.Helper()
	if err := k.Cluster.CreateTopic(topic, partitions, nil); err != nil {
		t.Fatalf("testkit: creating topic %s: %v", topic, err)
	}
}

// Restart closes the broker and starts it again on the same port with the
// same options (use kfake.DataDir to keep the log across the restart). down
// is how long it stays stopped.
func (k *Kafka) Restart(t testing.TB, down time.Duration) {
	t.Helper()
	k.Cluster.Close()
	time.Sleep(down)
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		k.Cluster, err = kfake.NewCluster(k.opts...)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("testkit: restarting kfake: %v", err)
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testkit: finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Context returns a context that ends with the test or after d, whichever
// comes first.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Transport returns a kafka-go transport for a test's own clients, closed
// when the test ends: kafka-go's default transport keeps its connections,
// and their goroutines, for the life of the process.
func Transport(t testing.TB) *kafka.Transport {
	tr := &kafka.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}
