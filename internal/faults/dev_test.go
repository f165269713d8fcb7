package faults

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/schemas"
)

// TestDevStackSIGKILLed kills `sluice dev` (broker, registry, Redis child
// and worker in one process) with SIGKILL while events stream in, and
// starts it again on the same data dir and ports. Every event the broker
// acknowledged before or after the kill must get a prediction.
func TestDevStackSIGKILLed(t *testing.T) {
	dataDir := t.TempDir()
	kafkaAddr, registryAddr, admin := freeAddr(t), freeAddr(t), freeAddr(t)
	args := []string{"dev", "--data-dir", dataDir, "--kafka-addr", kafkaAddr, "--registry-addr", registryAddr,
		"--http-addr", admin, "--partitions", "4"}
	env := []string{"SLUICE_INFERENCE_PROVIDER=cpu", "SLUICE_PIPELINE_MAX_IN_FLIGHT=512",
		"SLUICE_PIPELINE_COMMIT_INTERVAL=200ms", "SLUICE_PIPELINE_SHUTDOWN_GRACE=5s"}
	const kills = 2
	dev := startProc(t, "dev-0", admin, env, args...)

	client := schemas.NewClient("http://"+registryAddr, nil)
	enc, err := schemas.NewEncoder(t.Context(), client, schemas.Subject(inputTopic), schemas.TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	l := newLedger()
	out := newOutputs(t, kafkaAddr, client)
	s := newPublisher(t, kafkaAddr, enc, l, "dev").stream(10000, 100, 25*time.Millisecond)
	for i := 1; i <= kills; i++ {
		waitMetric(t, dev, "sluice_predictions_produced_total", 1000, 30*time.Second)
		// Kill while the worker has events in flight (the test fails if
		// it has none for 10s).
		inFlight := waitMetric(t, dev, "sluice_in_flight_events", 1, 10*time.Second)
		dev.kill()
		t.Logf("kill %d with %v events in flight: %d events acknowledged so far", i, inFlight, l.len())
		dev = startProc(t, fmt.Sprintf("dev-%d", i), admin, env, args...)
	}
	s.wait(t)
	out.waitAll(t, l, 45*time.Second)
	// The broker lives in the dev process: count before stopping it, after
	// the worker has had time to write whatever else it had in flight.
	time.Sleep(time.Second)
	f := out.settle(t, l)
	if code, _ := dev.term(15 * time.Second); code != 0 {
		t.Errorf("sluice dev exited %d after SIGTERM", code)
	}
	t.Logf("sluice dev SIGKILL x%d: %s", kills, f)
	// Broker and worker die together: what the worker had in flight (at
	// most max_in_flight) is fetched again after each restart.
	f.check(t, kills*512)
}
