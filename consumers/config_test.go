package consumers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestReaderConfigValidate(t *testing.T) {
	valid := func() ReaderConfig {
		c := ReaderConfig{Brokers: []string{"127.0.0.1:9092"}, Topic: "features", GroupID: "sluice"}
		c.SetDefaults()
		return c
	}
	tests := []struct {
		name  string
		edit  func(*ReaderConfig)
		field string // "" = valid
	}{
		{"defaults", func(*ReaderConfig) {}, ""},
		{"no brokers", func(c *ReaderConfig) { c.Brokers = nil }, "brokers"},
		{"empty broker", func(c *ReaderConfig) { c.Brokers = []string{"a:1", ""} }, "brokers[1]"},
		{"no topic", func(c *ReaderConfig) { c.Topic = "" }, "topic"},
		{"no group", func(c *ReaderConfig) { c.GroupID = "" }, "group_id"},
		{"min bytes", func(c *ReaderConfig) { c.MinBytes = -1 }, "min_bytes"},
		{"max below min", func(c *ReaderConfig) { c.MinBytes, c.MaxBytes = 10, 5 }, "max_bytes"},
		{"max wait", func(c *ReaderConfig) { c.MaxWait = -time.Second }, "max_wait"},
		{"queue", func(c *ReaderConfig) { c.QueueCapacity = -1 }, "queue_capacity"},
		{"heartbeat over session", func(c *ReaderConfig) { c.HeartbeatInterval = c.SessionTimeout }, "heartbeat_interval"},
		{"rebalance", func(c *ReaderConfig) { c.RebalanceTimeout = -1 }, "rebalance_timeout"},
		{"start offset", func(c *ReaderConfig) { c.StartOffset = "newest" }, "start_offset"},
		{"latest ok", func(c *ReaderConfig) { c.StartOffset = StartLatest }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.edit(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.HasPrefix(err.Error(), tt.field+": ") {
				t.Fatalf("Validate = %v, want an ErrInvalidConfig naming %s", err, tt.field)
			}
		})
	}
}

func TestReaderConfigYAML(t *testing.T) {
	var c ReaderConfig
	doc := "brokers: [k1:9092, k2:9092]\ntopic: features\ngroup_id: g\nmax_wait: 50ms\nsession_timeout: 45s\nstart_offset: latest\n"
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MaxWait != 50*time.Millisecond || c.SessionTimeout != 45*time.Second || c.StartOffset != StartLatest ||
		len(c.Brokers) != 2 || c.HeartbeatInterval != 3*time.Second {
		t.Fatalf("decoded %+v", c)
	}
}

func TestNewReaderRejectsInvalidConfig(t *testing.T) {
	_, err := NewReader(ReaderConfig{Brokers: []string{"127.0.0.1:1"}, GroupID: "g"})
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("NewReader = %v, want ErrInvalidConfig", err)
	}
}
