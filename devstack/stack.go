package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/retrain"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/security"
	"github.com/sluice-ml/sluice/server"
	"github.com/sluice-ml/sluice/training"
)

// Config is the dev stack's configuration (the flags of `sluice dev`).
type Config struct {
	DataDir      string // default .sluice
	KafkaAddr    string // default 127.0.0.1:9092
	RegistryAddr string // default 127.0.0.1:8081
	HTTPAddr     string // default 127.0.0.1:8080
	RedisURL     string // empty: run redis-server as a child
	Partitions   int32  // partitions of the topics it creates (default 4)
	// Broker configures the in-process broker's topic creation and
	// retention; its Addr, Dir and Partitions come from the fields above.
	// Topics are created on first use unless NoAutoCreate is set.
	Broker       BrokerConfig
	NoAutoCreate bool
	// Worker is the worker's configuration; the stack fills in the
	// addresses of the parts it runs.
	Worker config.Config
	// Retrain configures the built-in retrainer the stack runs (the zero
	// value: auto promotion, the retrain package's defaults).
	Retrain retrain.Config
}

// Addrs is where a running stack listens.
type Addrs struct {
	Kafka       string
	RegistryURL string
	RedisURL    string
	AdminURL    string
	DataDir     string
	ModelDir    string
	Ready       server.Ready
}

// Topics the stack creates at start, besides the worker's own input,
// output, dead-letter and shadow topics.
var Topics = []string{"features", "predictions", "features.dlq", "predictions.shadow", "drift-reports", "retrain-requests", "model-events", "labels", "quality-reports"}

// Run starts the stack and blocks until ctx ends, then stops every part.
// onReady (may be nil) is called once everything listens and the worker runs.
func Run(ctx context.Context, cfg Config, log *slog.Logger, onReady func(Addrs)) error {
	if cfg.DataDir == "" {
		cfg.DataDir = ".sluice"
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = 4
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}

	bc := cfg.Broker
	bc.Addr, bc.Dir, bc.Partitions, bc.AutoCreate = cfg.KafkaAddr, filepath.Join(cfg.DataDir, "kafka"), cfg.Partitions, !cfg.NoAutoCreate
	broker, err := StartBroker(bc)
	if err != nil {
		return err
	}
	defer broker.Close()
	topics := slices.Clone(Topics)
	for _, r := range cfg.Worker.Effective() { // every route's topics
		p := r.Pipeline
		topics = append(topics, p.InputTopic, p.OutputTopic, p.DLQTopic, p.ShadowTopic)
	}
	if err := broker.EnsureTopics(topics...); err != nil {
		return err
	}
	kafkaAddr := broker.Addr()
	bctx, stopBroker := context.WithCancel(ctx)
	brokerDone := make(chan struct{})
	go func() { defer close(brokerDone); _ = broker.Run(bctx) }()
	defer func() { stopBroker(); <-brokerDone }()

	redisURL := cfg.RedisURL
	if redisURL == "" {
		rc, err := startRedis(ctx, filepath.Join(cfg.DataDir, "redis"), log)
		if err != nil {
			return err
		}
		defer rc.stop()
		redisURL = rc.URL
	}
	rdb, err := security.NewRedis(config.Redis{URL: redisURL}, log)
	if err != nil {
		return fmt.Errorf("--redis-url: %w", err)
	}
	defer rdb.Close()

	reg, err := schemas.Listen(cfg.RegistryAddr, rdb)
	if err != nil {
		return err
	}
	defer reg.Close()
	registryURL := reg.URL

	client := schemas.NewClient(registryURL, nil)
	for topic, schema := range map[string]string{"features": schemas.TransactionSchema(), "predictions": schemas.PredictionSchema()} {
		if _, err := client.Register(ctx, schemas.Subject(topic), schema); err != nil {
			return fmt.Errorf("registering %s: %w", schemas.Subject(topic), err)
		}
	}

	modelDir := filepath.Join(cfg.DataDir, "models", "fraud", "1")
	if err := EnsureDemoModel(modelDir, log); err != nil {
		return err
	}
	if err := registerDemoModel(ctx, rdb, modelDir, log); err != nil {
		return err
	}

	events, err := producers.NewWriter(producers.WriterConfig{Brokers: []string{kafkaAddr}}, nil)
	if err != nil {
		return err
	}
	defer events.Close()
	rcfg := cfg.Retrain
	if rcfg.Policy == "" {
		rcfg.Policy = retrain.PolicyAuto
	}
	rcfg.Quality.Decision = cfg.Worker.Drift.Config // the same hysteresis and cooldown as data drift
	retrainer, err := retrain.NewRetrainer(rcfg, retrain.Deps{
		Brokers: []string{kafkaAddr}, Redis: rdb, Schemas: client, Logger: log, Sink: producers.NewEventSink(client, events),
		Registry: registry.New(rdb, cfg.Worker.Models, registry.WithLogger(log), registry.WithEmitter(server.NewModelEvents(client, events))),
	})
	if err != nil {
		return fmt.Errorf("retrainer: %w", err)
	}
	rctx, stopRetrainer := context.WithCancel(ctx)
	retrainerDone := make(chan struct{})
	go func() {
		defer close(retrainerDone)
		if err := retrainer.Run(rctx); err != nil {
			log.Warn("retrainer stopped", "err", err)
		}
	}()
	defer func() { stopRetrainer(); <-retrainerDone }()

	wc := cfg.Worker
	wc.Retrain.KeepFeatures = true
	if wc.Retrain.FeatureTTL == 0 {
		wc.Retrain.FeatureTTL = time.Hour
	}
	wc.Kafka.Brokers = []string{kafkaAddr}
	wc.Registry.URL = registryURL
	wc.Redis.URL = redisURL
	// The demo model serves the top-level model (and every route that
	// names no model of its own) unless the config gives another.
	if wc.Model.Dir == "" && wc.Model.Name == "fraud" {
		wc.Model = config.Model{Name: "fraud", Version: "1", Dir: modelDir}
	}
	wc.Admin.Addr = cfg.HTTPAddr
	return server.Run(ctx, wc, log, func(r server.Ready) {
		if onReady != nil {
			onReady(Addrs{
				Kafka: kafkaAddr, RegistryURL: registryURL, RedisURL: redisURL,
				AdminURL: "http://" + r.AdminAddr.String(), DataDir: cfg.DataDir, ModelDir: modelDir, Ready: r,
			})
		}
	})
}

// The demo model is trained on demoTrainEvents events of the generator
// seeded with demoSeed.
const (
	demoSeed        = 1
	demoTrainEvents = 40000
)

// EnsureDemoModel trains the demo model and writes it, its signature and
// its reference profile into dir, unless they are there already. The
// container images use it too.
func EnsureDemoModel(dir string, log *slog.Logger) error {
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	start := time.Now()
	m, sig, rep, err := training.TrainDemoModel(demoSeed, demoTrainEvents)
	if err != nil {
		return fmt.Errorf("training the demo model: %w", err)
	}
	if err := training.WriteModelDir(dir, m, sig); err != nil {
		return fmt.Errorf("writing the demo model: %w", err)
	}
	p, err := demoProfile(m, sig)
	if err != nil {
		return fmt.Errorf("building the demo model's reference profile: %w", err)
	}
	if err := p.WriteFile(filepath.Join(dir, server.ProfileFile)); err != nil {
		return err
	}
	// The holdout metrics go to the registry with the model: live quality
	// is measured against them.
	met, _ := json.Marshal(map[string]float64{"auc": rep.AUC, "log_loss": rep.LogLoss, "accuracy": rep.Accuracy,
		"train_rows": float64(rep.TrainRows), "holdout_rows": float64(rep.HoldoutRows)})
	if err := os.WriteFile(filepath.Join(dir, metricsFile), met, 0o644); err != nil {
		return err
	}
	log.Info("trained the demo model", "dir", dir, "took", time.Since(start).Round(time.Millisecond), "holdout", rep)
	return nil
}

// metricsFile holds the demo model's holdout metrics beside model.onnx.
const metricsFile = "metrics.json"

func defaultWorker() config.Config { return config.Default() }

// demoProfile is the demo model's reference profile: its features and
// scores on the events it was trained on.
func demoProfile(m *training.MLP, sig *inference.Signature) (*drift.Profile, error) {
	gen := demo.NewGenerator(demoSeed)
	recs := make([]map[string]any, demoTrainEvents)
	for i := range recs {
		recs[i] = gen.Next()
	}
	rows, err := training.Rows(sig, recs)
	if err != nil {
		return nil, err
	}
	return drift.BuildProfile(drift.FeaturesFromSignature(sig), func(yield func(map[string]any, float32) bool) {
		for i, rec := range recs {
			if !yield(rec, sig.ReadOutput(m.Forward(rows[i])).Score) {
				return
			}
		}
	}, drift.ProfileOptions{})
}

// registerDemoModel makes the demo model version 1 in production in the
// model registry, unless the registry already knows the model.
func registerDemoModel(ctx context.Context, rdb redis.UniversalClient, dir string, log *slog.Logger) error {
	models := registry.New(rdb, registry.Config{}, registry.WithLogger(log))
	if _, err := models.State(ctx, training.DemoModelName); err == nil {
		return nil
	} else if !errors.Is(err, registry.ErrUnknownModel) {
		return fmt.Errorf("reading the model registry: %w", err)
	}
	var req registry.RegisterRequest
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"model.onnx", &req.ONNX}, {"signature.yaml", &req.Signature}, {server.ProfileFile, &req.Profile}} {
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return err
		}
		*f.dst = b
	}
	if b, err := os.ReadFile(filepath.Join(dir, metricsFile)); err == nil {
		_ = json.Unmarshal(b, &req.Metrics) // none from a model dir that predates the file
	}
	req.Stage, req.Reason = registry.StageProduction, "demo model trained by sluice dev"
	v, err := models.Register(ctx, training.DemoModelName, req)
	if err != nil {
		return fmt.Errorf("registering the demo model: %w", err)
	}
	log.Info("registered the demo model", "model", v.Model, "version", v.Version, "stage", v.Stage)
	return nil
}
