package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseOverridesDefaults(t *testing.T) {
	c, err := Parse([]byte(`
kafka:
  brokers: [a:9092, b:9092]
pipeline:
  group: scorers
  batch:
    max_batch_size: 64
    max_delay: 5ms
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Kafka.Brokers, ","); got != "a:9092,b:9092" {
		t.Errorf("brokers = %q", got)
	}
	if c.Pipeline.Group != "scorers" || c.Pipeline.Batch.MaxBatchSize != 64 || c.Pipeline.Batch.MaxDelay != 5*time.Millisecond {
		t.Errorf("pipeline = %+v", c.Pipeline)
	}
	if c.Pipeline.OutputTopic != "predictions" {
		t.Errorf("unset key lost its default: output_topic = %q", c.Pipeline.OutputTopic)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "pipeline:\n  max_inflight: 3\n", "max_inflight"},
		{"bad provider", "inference:\n  provider: tpu\n", "inference.provider"},
		{"bad batch", "pipeline:\n  batch:\n    max_batch_size: -1\n", "max_batch_size"},
		{"no brokers", "kafka:\n  brokers: []\n", "kafka.brokers"},
		{"bad admin addr", "admin:\n  addr: nonsense\n", "admin.addr"},
		{"bad in-flight", "pipeline:\n  max_in_flight: 10\n", "pipeline.max_in_flight"},
		{"bad duration", "pipeline:\n  commit_interval: soon\n", "commit_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml))
			if err == nil {
				err = c.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v does not name %q", err, tt.want)
			}
		})
	}
}

func TestEnvOverridesFlagsOverrideFile(t *testing.T) {
	c, err := Parse([]byte("pipeline:\n  group: from-file\n  max_in_flight: 1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("pipeline.group", "from-flag"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("pipeline.max_in_flight", "2000"); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"SLUICE_PIPELINE_GROUP=from-env",
		"SLUICE_KAFKA_BROKERS=x:1, y:2",
		"SLUICE_PIPELINE_BATCH_MAX_DELAY=7ms",
		"OTHER=ignored",
	}
	if err := c.ApplyEnv(env); err != nil {
		t.Fatal(err)
	}
	if c.Pipeline.Group != "from-env" {
		t.Errorf("group = %q, want the env value", c.Pipeline.Group)
	}
	if c.Pipeline.MaxInFlight != 2000 {
		t.Errorf("max_in_flight = %d, want the flag value", c.Pipeline.MaxInFlight)
	}
	if got := strings.Join(c.Kafka.Brokers, ","); got != "x:1,y:2" {
		t.Errorf("brokers = %q", got)
	}
	if c.Pipeline.Batch.MaxDelay != 7*time.Millisecond {
		t.Errorf("max_delay = %s", c.Pipeline.Batch.MaxDelay)
	}
	if err := c.ApplyEnv([]string{"SLUICE_PIPELINE_MAX_IN_FLIGHT=lots"}); err == nil ||
		!strings.Contains(err.Error(), "SLUICE_PIPELINE_MAX_IN_FLIGHT") || !strings.Contains(err.Error(), "pipeline.max_in_flight") {
		t.Errorf("bad env value error %v does not name the variable and key", err)
	}
	if err := c.Set("pipeline.nope", "1"); err == nil {
		t.Error("Set accepted an unknown key")
	}
}

func TestEveryKeyHasAnEnvName(t *testing.T) {
	c := Default()
	keys := c.Keys()
	if len(keys) < 20 {
		t.Fatalf("only %d keys", len(keys))
	}
	for _, kv := range keys {
		if name := EnvName(kv[0]); strings.ContainsAny(name, ".-") {
			t.Errorf("key %s has env name %s", kv[0], name)
		}
	}
}

func TestConsumerTimeouts(t *testing.T) {
	c, err := Parse([]byte("kafka:\n  consumer:\n    session_timeout: 6s\n    heartbeat_interval: 1s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Kafka.Consumer.SessionTimeout != 6*time.Second || c.Kafka.Consumer.RebalanceTimeout != 30*time.Second {
		t.Fatalf("consumer = %+v", c.Kafka.Consumer)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Kafka.Consumer.HeartbeatInterval = 10 * time.Second
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "kafka.consumer.heartbeat_interval") {
		t.Fatalf("heartbeat longer than the session: %v", err)
	}
}
