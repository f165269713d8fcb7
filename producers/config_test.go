package producers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestWriterConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*WriterConfig)
		field string // "" = valid
	}{
		{"defaults", func(*WriterConfig) {}, ""},
		{"per-message topic", func(c *WriterConfig) { c.Topic = "" }, ""},
		{"no brokers", func(c *WriterConfig) { c.Brokers = nil }, "brokers"},
		{"empty broker", func(c *WriterConfig) { c.Brokers = []string{""} }, "brokers[0]"},
		{"batch timeout", func(c *WriterConfig) { c.BatchTimeout = -time.Millisecond }, "batch_timeout"},
		{"batch size", func(c *WriterConfig) { c.BatchSize = -1 }, "batch_size"},
		{"batch bytes", func(c *WriterConfig) { c.BatchBytes = -1 }, "batch_bytes"},
		{"write timeout", func(c *WriterConfig) { c.WriteTimeout = -1 }, "write_timeout"},
		{"compression", func(c *WriterConfig) { c.Compression = "brotli" }, "compression"},
		{"zstd", func(c *WriterConfig) { c.Compression = "zstd" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := WriterConfig{Brokers: []string{"127.0.0.1:9092"}, Topic: "predictions"}
			c.SetDefaults()
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

func TestWriterConfigDefaultsAndYAML(t *testing.T) {
	var c WriterConfig
	if err := yaml.Unmarshal([]byte("brokers: [k:9092]\ntopic: predictions\ncompression: lz4\nbatch_timeout: 5ms\n"), &c); err != nil {
		t.Fatal(err)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.BatchTimeout != 5*time.Millisecond || c.BatchSize != 1000 || c.Compression != "lz4" || c.WriteTimeout != 10*time.Second {
		t.Fatalf("config %+v", c)
	}
	var d WriterConfig
	d.SetDefaults()
	if d.BatchTimeout != 2*time.Millisecond {
		t.Fatalf("default batch timeout %v, want 2ms", d.BatchTimeout)
	}
}
