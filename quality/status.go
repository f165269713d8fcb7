package quality

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// statusKey is the hash of a model's latest quality per version and stage
// (fields "<version>/<stage>", values JSON statusEntry), which the workers'
// status pages read.
func statusKey(model string) string {
	return "sluice:quality:{" + strings.NewReplacer("{", "_", "}", "_").Replace(model) + "}:latest"
}

// statusTTL is how long a model's status lives without a new window.
const statusTTL = 24 * time.Hour

// statusEntry is one version's latest closed window, as stored.
type statusEntry struct {
	Labelled    int      `json:"labelled"`
	AUC         *float64 `json:"auc,omitempty"`
	LogLoss     *float64 `json:"log_loss,omitempty"`
	Accuracy    *float64 `json:"accuracy,omitempty"`
	Calibration *float64 `json:"calibration_error,omitempty"`
	MAE         *float64 `json:"mae,omitempty"`
	RMSE        *float64 `json:"rmse,omitempty"`
	HoldoutAUC  *float64 `json:"holdout_auc,omitempty"`
	HoldoutRMSE *float64 `json:"holdout_rmse,omitempty"`
	Degraded    bool     `json:"degraded"`
	At          int64    `json:"at"`
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// storeStatus keeps r as its version's latest quality in its stage.
func storeStatus(ctx context.Context, rdb redis.UniversalClient, r *Report) error {
	b, err := json.Marshal(statusEntry{
		Labelled: r.Labelled, AUC: ptr(r.AUC), LogLoss: ptr(r.LogLoss), Accuracy: ptr(r.Accuracy),
		Calibration: ptr(r.Calibration), MAE: ptr(r.MAE), RMSE: ptr(r.RMSE),
		HoldoutAUC: ptr(r.HoldoutAUC), HoldoutRMSE: ptr(r.HoldoutRMSE), Degraded: r.Degraded, At: r.CreatedAt.UnixMilli(),
	})
	if err != nil {
		return err
	}
	key := statusKey(r.Model)
	_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, r.Version+"/"+r.Stage, b)
		p.Expire(ctx, key, statusTTL)
		return nil
	})
	return err
}

// forgetStatus drops a version's entries.
func forgetStatus(ctx context.Context, rdb redis.UniversalClient, model, version string) error {
	key := statusKey(model)
	fields, err := rdb.HKeys(ctx, key).Result()
	if err != nil {
		return err
	}
	var drop []string
	for _, f := range fields {
		if strings.HasPrefix(f, version+"/") {
			drop = append(drop, f)
		}
	}
	if len(drop) == 0 {
		return nil
	}
	return rdb.HDel(ctx, key, drop...).Err()
}

// statusDesc are the families a status gatherer exports.
var statusDesc = struct {
	labelled, auc, logLoss, accuracy, calibration, mae, rmse, holdoutAUC, degraded *prometheus.Desc
}{
	labelled:    prometheus.NewDesc("sluice_quality_window_labelled", "Labelled events in the latest closed quality window.", []string{"model", "version", "stage"}, nil),
	auc:         prometheus.NewDesc("sluice_quality_auc", "Live ROC AUC over the latest closed quality window (classifiers).", []string{"model", "version", "stage"}, nil),
	logLoss:     prometheus.NewDesc("sluice_quality_log_loss", "Live log-loss over the latest closed quality window (classifiers).", []string{"model", "version", "stage"}, nil),
	accuracy:    prometheus.NewDesc("sluice_quality_accuracy_ratio", "Live accuracy of the most probable class over the latest closed quality window (classifiers).", []string{"model", "version", "stage"}, nil),
	calibration: prometheus.NewDesc("sluice_quality_calibration_error", "Live expected calibration error over the latest closed quality window (classifiers).", []string{"model", "version", "stage"}, nil),
	mae:         prometheus.NewDesc("sluice_quality_mae", "Live mean absolute error over the latest closed quality window (score models).", []string{"model", "version", "stage"}, nil),
	rmse:        prometheus.NewDesc("sluice_quality_rmse", "Live root mean squared error over the latest closed quality window (score models).", []string{"model", "version", "stage"}, nil),
	holdoutAUC:  prometheus.NewDesc("sluice_quality_holdout_auc", "The version's own holdout AUC, from its registered metrics.", []string{"model", "version", "stage"}, nil),
	degraded:    prometheus.NewDesc("sluice_quality_degraded", "1 when the latest production window fell more than the margin behind the version's holdout quality.", []string{"model", "version", "stage"}, nil),
}

// statusCollector exports a model's latest quality from Redis.
type statusCollector struct {
	rdb   redis.UniversalClient
	model string

	mu     sync.Mutex
	at     time.Time
	fields map[string]string
}

// NewStatusGatherer returns a Gatherer of model's latest live quality per
// version and stage, read from what the quality service stores in Redis
// (at most once a second), for a worker's status page: the gauges
// sluice_quality_auc, _log_loss, _accuracy_ratio, _calibration_error, _mae,
// _rmse, _holdout_auc, _degraded and _window_labelled. It is not meant for
// /metrics: the quality service exports the same quality itself. It is
// safe for concurrent use.
func NewStatusGatherer(rdb redis.UniversalClient, model string) prometheus.Gatherer {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&statusCollector{rdb: rdb, model: model})
	return reg
}

// Describe implements prometheus.Collector.
func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) {
	d := statusDesc
	for _, desc := range []*prometheus.Desc{d.labelled, d.auc, d.logLoss, d.accuracy, d.calibration, d.mae, d.rmse, d.holdoutAUC, d.degraded} {
		ch <- desc
	}
}

// Collect implements prometheus.Collector.
func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if time.Since(c.at) >= time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if f, err := c.rdb.HGetAll(ctx, statusKey(c.model)).Result(); err == nil {
			c.fields = f
		}
		cancel()
		c.at = time.Now()
	}
	fields := c.fields
	c.mu.Unlock()
	for field, v := range fields {
		version, stage, ok := strings.Cut(field, "/")
		var e statusEntry
		if !ok || json.Unmarshal([]byte(v), &e) != nil {
			continue
		}
		put := func(d *prometheus.Desc, p *float64) {
			if p != nil {
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, *p, c.model, version, stage)
			}
		}
		n, deg := float64(e.Labelled), 0.0
		if e.Degraded {
			deg = 1
		}
		d := statusDesc
		put(d.labelled, &n)
		put(d.auc, e.AUC)
		put(d.logLoss, e.LogLoss)
		put(d.accuracy, e.Accuracy)
		put(d.calibration, e.Calibration)
		put(d.mae, e.MAE)
		put(d.rmse, e.RMSE)
		put(d.holdoutAUC, e.HoldoutAUC)
		put(d.degraded, &deg)
	}
}
