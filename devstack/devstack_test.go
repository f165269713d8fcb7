package devstack_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/devstack"
	"github.com/sluice-ml/sluice/loadgen"
	"github.com/sluice-ml/sluice/schemas"
)

// start runs the dev stack on free ports in dir and returns its addresses
// and a stop func that waits for it to exit.
func start(t *testing.T, dir string) (devstack.Addrs, func()) {
	t.Helper()
	return startWith(t, dir, config.Default())
}

// startWith is start with the worker's config (sluice dev --config).
func startWith(t *testing.T, dir string, worker config.Config) (devstack.Addrs, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan devstack.Addrs, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() {
		done <- devstack.Run(ctx, devstack.Config{
			DataDir: dir, KafkaAddr: "127.0.0.1:0", RegistryAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			Worker: worker,
		}, log, func(a devstack.Addrs) { ready <- a })
	}()
	var a devstack.Addrs
	select {
	case a = <-ready:
	case err := <-done:
		t.Fatalf("dev stack exited at start: %v", err)
	case <-time.After(90 * time.Second):
		t.Fatal("dev stack not ready in 90s")
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("dev stack stopped with %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("dev stack did not stop in 60s")
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(a.AdminURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 within 30s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return a, stop
}

// count reads topic from the start with a fresh group until it has been
// quiet for quiet, and returns the number of records.
func count(t *testing.T, a devstack.Addrs, topic string, atLeast int, quiet time.Duration) int {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{a.Kafka}, Topic: topic,
		GroupID: "count-" + time.Now().Format("150405.000000000"), StartOffset: kafka.FirstOffset,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 20 * time.Millisecond})
	defer r.Close()
	n := 0
	deadline := time.Now().Add(60 * time.Second)
	for {
		wait := quiet
		if n < atLeast {
			wait = time.Until(deadline)
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		_, err := r.FetchMessage(ctx)
		cancel()
		if err != nil {
			if n < atLeast {
				t.Fatalf("%s: %d records, want at least %d", topic, n, atLeast)
			}
			return n
		}
		n++
	}
}

func TestRestartKeepsTopicsSchemasModelAndPositions(t *testing.T) {
	dir := t.TempDir()
	a, stop := start(t, dir)
	if _, err := loadgen.Run(t.Context(), loadgen.Config{Brokers: []string{a.Kafka}, RegistryURL: a.RegistryURL, Topic: "features", Count: 500, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, a, "predictions", 500, 500*time.Millisecond); n != 500 {
		t.Fatalf("%d predictions for 500 events", n)
	}
	// A topic of the user's own is created on first use, with the stack's
	// partition count, and kept across the restart.
	if _, err := loadgen.Run(t.Context(), loadgen.Config{Brokers: []string{a.Kafka}, RegistryURL: a.RegistryURL, Topic: "my-own-topic", Count: 50, Seed: 5}); err != nil {
		t.Fatalf("producing to a topic the stack did not create: %v", err)
	}
	if n := count(t, a, "my-own-topic", 50, 300*time.Millisecond); n != 50 {
		t.Fatalf("%d records on my-own-topic, want 50", n)
	}
	first, err := schemas.NewClient(a.RegistryURL, nil).Version(t.Context(), "features-value", "latest")
	if err != nil {
		t.Fatal(err)
	}
	model, err := os.Stat(a.ModelDir + "/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	stop()

	b, _ := start(t, dir)
	again, err := schemas.NewClient(b.RegistryURL, nil).Version(t.Context(), "features-value", "latest")
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, b, "my-own-topic", 50, 300*time.Millisecond); n != 50 {
		t.Errorf("%d records on my-own-topic after a restart, want 50", n)
	}
	if again.ID != first.ID || again.Version != first.Version {
		t.Errorf("features-value was id %d version %d, after restart id %d version %d", first.ID, first.Version, again.ID, again.Version)
	}
	if m2, err := os.Stat(b.ModelDir + "/model.onnx"); err != nil || !m2.ModTime().Equal(model.ModTime()) {
		t.Errorf("the demo model was written again after a restart")
	}
	// The worker's committed positions survived: nothing is predicted twice,
	// and new events are predicted.
	if _, err := loadgen.Run(t.Context(), loadgen.Config{Brokers: []string{b.Kafka}, RegistryURL: b.RegistryURL, Topic: "features", Count: 100, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, b, "predictions", 600, time.Second); n != 600 {
		t.Fatalf("%d predictions after a restart and 100 more events, want 600 (500 kept + 100 new, none again)", n)
	}
}

// A client this project did not write — Confluent's Python client on
// librdkafka, with its Avro serde and the schema registry — round-trips
// events through the dev stack.
func TestConfluentClientRoundTrip(t *testing.T) {
	// Debian's python3, where apt installs the client (not a pyenv shim).
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import confluent_kafka.avro").Run(); err != nil {
		if os.Getenv("SLUICE_REQUIRE_INTEROP") != "" {
			t.Fatalf("python3-confluent-kafka and python3-avro are needed (scripts/ensure-test-deps.sh installs them): %v", err)
		}
		t.Skip("python3-confluent-kafka / python3-avro not installed; make test installs them")
	}
	a, _ := start(t, t.TempDir())
	out, err := exec.CommandContext(t.Context(), py, "testdata/confluent_roundtrip.py", a.Kafka, a.RegistryURL, "50").CombinedOutput()
	if err != nil {
		t.Fatalf("confluent client: %v\n%s", err, out)
	}
	var res struct {
		Sent, Received, Unique int
		IDsMatch               bool `json:"ids_match"`
	}
	lines := splitLines(out)
	if err := json.Unmarshal(lines[len(lines)-1], &res); err != nil {
		t.Fatalf("reading the client's result: %v\n%s", err, out)
	}
	if res.Sent != 50 || res.Unique != 50 || !res.IDsMatch {
		t.Fatalf("confluent client round trip: %+v\n%s", res, out)
	}
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	start := 0
	for i, c := range b {
		if c == '\n' {
			if i > start {
				out = append(out, b[start:i])
			}
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, b[start:])
	}
	if len(out) == 0 {
		out = append(out, nil)
	}
	return out
}
