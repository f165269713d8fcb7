package quality

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

func TestQualityReportSchemaFile(t *testing.T) {
	b, err := os.ReadFile("../schemas/avro/quality_report.avsc")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(b)) != QualityReportSchema {
		t.Fatal("QualityReportSchema differs from schemas/avro/quality_report.avsc")
	}
	codec, err := goavro.NewCodec(QualityReportSchema)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	nan := math.NaN()
	r := &Report{ID: "e-1", Model: "fraud", Version: "2", Stage: "canary", Seq: 3, Start: at, End: at.Add(time.Minute),
		Quality:    Quality{Labelled: 500, Positives: 20, AUC: 0.9, LogLoss: 0.1, Accuracy: 0.96, Calibration: 0.01, MeanScore: 0.04, MAE: nan, RMSE: nan},
		HoldoutAUC: 0.88, HoldoutRMSE: nan, Margin: 0.05, CreatedAt: at}
	bin, err := codec.BinaryFromNative(nil, r.Native())
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := codec.NativeFromBinary(bin)
	if err != nil {
		t.Fatal(err)
	}
	rec := back.(map[string]any)
	if rec["auc"].(map[string]any)["double"] != 0.9 || rec["rmse"] != nil || rec["labelled"] != int64(500) || rec["stage"] != "canary" {
		t.Fatalf("read back %v", rec)
	}
}

func TestDegraded(t *testing.T) {
	nan := math.NaN()
	z := normalQuantile(0.95)
	if math.Abs(z-1.6449) > 1e-4 {
		t.Fatalf("z(0.95) = %v", z)
	}
	// AUC 0.8 on 100 positives and 100 negatives: Q1 = 2/3, Q2 = 0.7111,
	// SE² = (0.16 + 99·0.02667 + 99·0.07111) / 10000.
	if se := aucStdErr(0.8, 100, 100); math.Abs(se-0.03137) > 1e-4 {
		t.Fatalf("standard error %v", se)
	}
	tests := []struct {
		q               Quality
		auc, rmse, marg float64
		want            bool
	}{
		{Quality{AUC: 0.60, Positives: 40, Labelled: 1000, RMSE: nan}, 0.90, nan, 0.05, true},
		{Quality{AUC: 0.84, Positives: 40, Labelled: 1000, RMSE: nan}, 0.90, nan, 0.05, false},   // below the margin, within the noise
		{Quality{AUC: 0.84, Positives: 4000, Labelled: 50000, RMSE: nan}, 0.90, nan, 0.05, true}, // the same with many labels
		{Quality{AUC: 0.60, Positives: 40, Labelled: 1000, RMSE: nan}, 0.90, nan, -1, false},
		{Quality{AUC: nan, RMSE: nan}, 0.90, nan, 0.05, false},
		{Quality{AUC: 0.60, Positives: 40, Labelled: 1000, RMSE: nan}, nan, nan, 0.05, false},
		{Quality{AUC: nan, RMSE: 1.2}, nan, 1.0, 0.1, true},
		{Quality{AUC: nan, RMSE: 1.05}, nan, 1.0, 0.1, false},
	}
	for i, tt := range tests {
		if got := degraded(tt.q, tt.auc, tt.rmse, tt.marg, z); got != tt.want {
			t.Errorf("%d: degraded %v, want %v", i, got, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	d := Config{}.WithDefaults()
	if d.WindowEvents != 1000 || d.Margin != 0.05 || d.Live.MinEvents != 2000 || d.Live.Confidence != 0.95 ||
		d.ReportsTopic != "quality-reports" || d.Decision.RetrainK != 2 || d.Decision.Cooldown != time.Hour {
		t.Fatalf("defaults %+v", d)
	}
	tests := []struct {
		cfg Config
		key string
	}{
		{Config{}, ""},
		{Config{Margin: -1}, ""},
		{Config{WindowEvents: 5}, "window_events"},
		{Config{MinWindowEvents: 5000}, "min_window_events"},
		{Config{Margin: 2}, "margin"},
		{Config{ReportsTopic: "labels"}, "_topic"},
		{Config{Live: LiveConfig{Confidence: 1}}, "live.confidence"},
		{Config{Live: LiveConfig{MinEvents: 5000, MaxEvents: 100}}, "live.max_events"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (err == nil) != (tt.key == "") || (err != nil && !strings.Contains(err.Error(), tt.key)) {
			t.Errorf("%+v: %v, want an error naming %q", tt.cfg, err, tt.key)
		}
	}
}
