package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/security"
)

// mark is in every secret of these tests; no output may contain it.
const mark = "s3cr3tMARK"

// A worker whose every secret is set — Redis's requirepass in redis.url,
// the SASL password in a password file, basic-auth credentials in
// registry.url — runs, serves its status page and metrics, loses Redis,
// and stops; neither its log, its pages nor its error print a secret.
func TestWorkerNeverPrintsSecrets(t *testing.T) {
	initRuntime(t)
	redisPW, saslPW, regPW := "redis-"+mark+"-1", "sasl-"+mark+"-2", "registry-"+mark+"-3"
	rs := testkit.StartRedis(t, testkit.WithPassword(redisPW))
	k := testkit.StartKafka(t, kfake.EnableSASL(), kfake.Superuser(config.SASLScramSHA256, "sluice", saslPW))
	for _, topic := range []string{"features", "predictions", "features.dlq", "predictions.shadow", "drift-reports", "retrain-requests", "model-events"} {
		k.CreateTopic(t, topic, 2)
	}
	reg := testworker.StartRegistry(t, rs.Client())
	pwFile := filepath.Join(t.TempDir(), "kafka-password")
	if err := os.WriteFile(pwFile, []byte(saslPW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir, _ := constantModel(t, 0)

	cfg := config.Default()
	cfg.Kafka.Brokers = []string{k.Addr}
	cfg.Kafka.SASL = config.SASL{Mechanism: config.SASLScramSHA256, Username: "sluice", PasswordFile: pwFile}
	cfg.Redis.URL = rs.URL
	cfg.Registry.URL = strings.Replace(reg.URL, "http://", "http://sluice:"+regPW+"@", 1)
	cfg.Model.Dir = dir
	cfg.Admin.Addr = "127.0.0.1:0"
	cfg.Retrain.KeepFeatures = true
	cfg.Drift.FlushInterval = 100 * time.Millisecond
	cfg.Log.Level = "debug"
	if !strings.Contains(cfg.Redis.URL, redisPW) {
		t.Fatalf("redis.url %q does not carry the password", cfg.Redis.URL)
	}

	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan Ready, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, log, func(r Ready) { ready <- r }) }()
	var r Ready
	select {
	case r = <-ready:
	case err := <-done:
		t.Fatalf("worker stopped at start: %v\n%s", err, logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("worker not ready in 60s\n%s", logs)
	}
	admin := "http://" + r.AdminAddr.String()

	// Events flow through (so the feature log and the drift tap write to
	// Redis), over the same SASL login.
	_, tr, err := security.Kafka(cfg.Kafka, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	w, err := producers.NewWriter(producers.WriterConfig{Brokers: cfg.Kafka.Brokers, Topic: "features", Transport: tr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	enc, err := schemas.NewEncoder(t.Context(), schemas.NewClient(cfg.Registry.URL, nil), "features-value", schemas.TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	gen := demo.NewGenerator(11)
	publish := func(n int) {
		t.Helper()
		msgs := make([]kafka.Message, n)
		for i := range msgs {
			rec := gen.Next()
			v, err := enc.Append(nil, rec)
			if err != nil {
				t.Fatal(err)
			}
			msgs[i] = kafka.Message{Key: []byte(rec["entity_id"].(string)), Value: v}
		}
		if err := w.Write(testkit.Context(t, 30*time.Second), msgs...); err != nil {
			t.Fatal(err)
		}
	}
	publish(300)
	testkit.WaitFor(t, 60*time.Second, "300 predictions", func() bool { return total(t, r.Registry, "sluice_predictions_produced_total") >= 300 })
	status := get(t, admin+"/api/status")
	testkit.WaitFor(t, 10*time.Second, "a status sample with traffic", func() bool {
		status = get(t, admin+"/api/status")
		return strings.Contains(status, `"in_total":3`)
	})
	metrics, readyz := get(t, admin+"/metrics"), get(t, admin+"/readyz")

	// Redis goes away while events keep coming: the feature log and the
	// drift flush fail and say so.
	rs.Kill()
	publish(300)
	testkit.WaitFor(t, 30*time.Second, "a logged Redis failure", func() bool {
		l := logs.String()
		return strings.Contains(l, "connection refused") || strings.Contains(l, "EOF")
	})
	statusAfter := get(t, admin+"/api/status")
	cancel()
	var runErr string
	select {
	case err := <-done:
		if err != nil {
			runErr = err.Error()
		}
	case <-time.After(60 * time.Second):
		t.Fatal("worker did not stop in 60s")
	}
	noneContain(t, mark, map[string]string{
		"the worker's log": logs.String(), "/api/status": status + statusAfter,
		"/metrics": metrics, "/readyz": readyz, "the worker's error": runErr,
	})
}

// A worker that cannot start says why without printing a secret: a
// registry that does not answer (the error names its URL, redacted), a
// Redis URL that does not parse, a Redis that refuses the password.
func TestStartErrorsNeverPrintSecrets(t *testing.T) {
	initRuntime(t)
	dir, _ := constantModel(t, 0)
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}()
	rs := testkit.StartRedis(t, testkit.WithPassword("right-"+mark))
	plain := testkit.StartRedis(t)
	reg := testworker.StartRegistry(t, plain.Client())
	tests := []struct {
		name string
		set  func(*config.Config)
		want string
	}{
		{"registry down", func(c *config.Config) {
			c.Registry.URL = "http://sluice:reg-" + mark + "@" + closed
		}, "registering prediction schema at http://sluice:[redacted]@" + closed},
		{"bad redis url", func(c *config.Config) {
			c.Redis.URL = "redis://u:url-" + mark + "@127.0.0.1:notaport/0"
		}, "redis.url"},
		{"bad registry url", func(c *config.Config) {
			c.Registry.URL = "http://u:reg-" + mark + "@[::1/"
		}, "registry.url"},
		{"wrong redis password", func(c *config.Config) {
			c.Redis.URL = "redis://" + rs.Addr + "/0"
			c.Redis.Password = config.Secret("wrong-" + mark)
			c.Drift.Enabled = false
		}, "WRONGPASS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Kafka.Brokers = []string{closed}
			cfg.Model.Dir = dir
			cfg.Admin.Addr = "127.0.0.1:0"
			cfg.Redis.URL = ""
			cfg.Drift.Enabled = false
			cfg.Registry.URL = reg.URL
			tt.set(&cfg)
			logs := &logBuffer{}
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			err := Run(ctx, cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), func(Ready) { cancel() })
			if err == nil || errors.Is(err, context.Canceled) {
				if tt.name != "wrong redis password" {
					t.Fatalf("worker started: %v", err)
				}
			}
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			out := msg + "\n" + logs.String()
			if !strings.Contains(out, tt.want) {
				t.Errorf("error and log do not say %q:\n%s", tt.want, out)
			}
			noneContain(t, mark, map[string]string{"the error": msg, "the log": logs.String()})
		})
	}
}
