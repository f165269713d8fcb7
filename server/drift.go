package server

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/inference"
)

// ProfileFile is the reference profile's name beside model.onnx.
const ProfileFile = "profile.json"

// newMonitor builds the drift monitor for the served model version, or
// returns nil (with a log line) when the model has no reference profile.
func newMonitor(cfg config.Config, model *inference.Model, rdb *redis.Client, sink drift.Sink, reg prometheus.Registerer, log *slog.Logger) (*drift.Monitor, error) {
	path := filepath.Join(cfg.Model.Dir, ProfileFile)
	p, err := drift.LoadProfile(path)
	if errors.Is(err, os.ErrNotExist) {
		log.Info("drift monitoring off: the model has no reference profile", "want", path)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("model.dir: %w", err)
	}
	if rdb == nil {
		return nil, errors.New("drift.enabled: drift windows are merged in Redis; set redis.url")
	}
	m, err := drift.NewMonitor(cfg.Drift.Config, model.Name(), model.Version(), p, rdb, sink,
		drift.WithMetrics(drift.NewMetrics(reg)), drift.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	log.Info("drift monitoring on", "window_events", cfg.Drift.WithDefaults().WindowEvents, "reports", cfg.Drift.WithDefaults().ReportsTopic, "retrain", cfg.Drift.WithDefaults().RetrainTopic)
	return m, nil
}
