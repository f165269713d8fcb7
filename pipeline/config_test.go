package pipeline

import (
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name    string
		in      Config
		wantDLQ string
	}{
		{"demo input", Config{}, "features.dlq"},
		{"own input topic", Config{InputTopic: "orders"}, "orders.dlq"},
		{"explicit", Config{InputTopic: "orders", DLQTopic: "bad-orders"}, "bad-orders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.in.WithDefaults()
			if c.DLQTopic != tt.wantDLQ {
				t.Errorf("dlq_topic = %q, want %q", c.DLQTopic, tt.wantDLQ)
			}
			if c.WriteRetries != 3 || c.Readiness.BrokerTimeout != 30*time.Second || c.Readiness.StallTimeout != time.Minute {
				t.Errorf("write_retries %d, readiness %+v: want the defaults", c.WriteRetries, c.Readiness)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("defaults do not validate: %v", err)
			}
		})
	}
}

func TestConfigValidateNamesTheKey(t *testing.T) {
	tests := []struct {
		name string
		set  func(*Config)
		key  string
	}{
		{"dlq is the input", func(c *Config) { c.DLQTopic = c.InputTopic }, "pipeline.dlq_topic"},
		{"dlq is the output", func(c *Config) { c.DLQTopic = c.OutputTopic }, "pipeline.dlq_topic"},
		{"negative write retries", func(c *Config) { c.WriteRetries = -1 }, "pipeline.write_retries"},
		{"negative broker timeout", func(c *Config) { c.Readiness.BrokerTimeout = -time.Second }, "pipeline.readiness.broker_timeout"},
		{"stall shorter than a commit", func(c *Config) { c.Readiness.StallTimeout = time.Millisecond }, "pipeline.readiness.stall_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{}.WithDefaults()
			tt.set(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.key) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.key)
			}
		})
	}
}
