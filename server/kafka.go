package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/security"
)

// kafkaClients builds the dialer (readers) and transport (writers) for the
// configured TLS and SASL, and checks the credentials once at start: wrong
// credentials or certificates stop the worker with an error naming the keys
// to fix, while a broker that is merely down is waited for by the clients.
func kafkaClients(ctx context.Context, cfg config.Kafka, log *slog.Logger) (*kafka.Dialer, *kafka.Transport, error) {
	dialer, transport, err := security.Kafka(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := security.CheckKafka(cctx, cfg, dialer); err != nil {
		if errors.Is(err, kafka.SASLAuthenticationFailed) || strings.Contains(err.Error(), "certificate") {
			transport.CloseIdleConnections()
			return nil, nil, err
		}
		log.Warn("kafka is not reachable yet; the worker will keep trying", "err", err)
	}
	return dialer, transport, nil
}
