package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/sluice-ml/sluice/admin"
	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/featurelog"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/keyerr"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/registry"
)

// Config is the whole of sluice.yaml.
type Config struct {
	Kafka     Kafka                   `yaml:"kafka"`
	Redis     Redis                   `yaml:"redis"`
	Registry  Registry                `yaml:"registry"`
	Model     Model                   `yaml:"model"`
	Inference inference.SessionConfig `yaml:"inference"`
	Pipeline  pipeline.Config         `yaml:"pipeline"`
	Admin     admin.Config            `yaml:"admin"`
	Drift     Drift                   `yaml:"drift"`
	Models    registry.Config         `yaml:"models"`
	Retrain   Retrain                 `yaml:"retrain"`
	Log       Log                     `yaml:"log"`
	// Routes are the topic → model → topic routes one process serves;
	// none: one route built from pipeline.*, model.* and drift.* (see
	// Effective).
	Routes []Route `yaml:"routes"`
}

// Kafka says where the brokers are and how to reach them securely. The
// security package turns it into kafka-go's Dialer and Transport.
type Kafka struct {
	Brokers []string `yaml:"brokers"`
	// TLS encrypts the connections to the brokers (and, with a client
	// certificate, authenticates sluice to them).
	TLS TLS `yaml:"tls"`
	// SASL authenticates sluice to the brokers.
	SASL SASL `yaml:"sasl"`
	// Consumer tunes the group membership of the workers' readers. Zero
	// values take the consumers package's defaults (session 30s,
	// heartbeat 3s, rebalance 30s, fetch max wait 250ms): a shorter
	// session timeout lets the group notice a killed worker sooner, at the
	// cost of churn on long pauses.
	Consumer consumers.Tuning `yaml:"consumer"`
}

// Redis says where Redis is: redis://[user:password@]host:port/db, or
// rediss:// for TLS. The credentials may instead come from Username and
// Password (e.g. SLUICE_REDIS_PASSWORD) so that the URL holds no secret;
// the security package turns it into go-redis options.
type Redis struct {
	URL string `yaml:"url"`
	// Username is the ACL user (default: Redis's "default" user).
	Username string `yaml:"username"`
	// Password authenticates Username (requirepass or an ACL password).
	Password Secret `yaml:"password"`
	// PasswordFile holds the password instead (a mounted secret); one
	// trailing newline is ignored.
	PasswordFile string `yaml:"password_file"`
	// TLS configures TLS; it is on with a rediss:// URL or tls.enabled.
	TLS TLS `yaml:"tls"`
}

// Registry is the Confluent-compatible schema registry's base URL.
type Registry struct {
	URL string `yaml:"url"`
}

// Model names the model to serve and where its files are.
type Model struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
	// Dir holds model.onnx and signature.yaml. Empty (the default): the
	// model registry's production version of Name is served.
	Dir string `yaml:"dir"`
}

// Log configures the process's structured log.
type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // text | json
}

// Default is the configuration every unset key takes.
func Default() Config {
	return Config{
		Kafka:     Kafka{Brokers: []string{"127.0.0.1:9092"}, Consumer: consumers.DefaultTuning()},
		Redis:     Redis{URL: "redis://127.0.0.1:6379/0"},
		Registry:  Registry{URL: "http://127.0.0.1:8081"},
		Model:     Model{Name: "fraud", Version: "1"},
		Inference: inference.DefaultSessionConfig(),
		Pipeline:  pipeline.DefaultConfig(),
		Admin:     admin.Config{Addr: admin.DefaultAddr},
		Drift:     Drift{Enabled: true, Config: drift.DefaultConfig()},
		Retrain:   Retrain{FeatureTTL: featurelog.DefaultTTL, MaxKeptEvents: featurelog.DefaultMaxEvents},
		Models:    registry.Config{}.WithDefaults(),
		Log:       Log{Level: "info", Format: "text"},
	}
}

// Parse reads YAML over the defaults; an unknown key is an error naming it.
func Parse(b []byte) (Config, error) {
	c := Default()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("config: %w", nameFields(b, err))
	}
	return c, nil
}

// Load reads path (if not empty) and applies env overrides from environ
// (os.Environ() form). Flags are applied by the caller between the two with
// ApplyFlags.
func Load(path string) (Config, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: reading %s: %w", path, err)
	}
	c, err := Parse(b)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate reports every bad value, each naming its dotted key
// ("pipeline.batch.max_delay: must not be negative, got -1s").
func (c Config) Validate() error {
	var l keyerr.List
	l.Add("", c.Kafka.Validate())
	l.Add("kafka.consumer", c.Kafka.Consumer.Validate())
	l.Add("", c.Redis.Validate())
	l.Add("", c.Registry.Validate())
	l.Check(c.Model.Name != "", "model.name", "must not be empty")
	l.Add("inference", c.Inference.Validate())
	l.Add("", c.Pipeline.WithDefaults().Validate())
	l.Add("", c.Admin.Validate())
	l.Add("", c.Models.Validate())
	l.Add("", c.Retrain.Validate())
	if c.Drift.Enabled {
		l.Add("", c.Drift.Config.Validate())
	}
	c.validateRoutes(&l)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		l.Check(false, "log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	return l.Err()
}
