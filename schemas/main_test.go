package schemas

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-ml/sluice/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// registry is an embedded registry server on a real redis-server, and a
// client for it.
type registry struct {
	redis  *testkit.Redis
	http   *httptest.Server
	client *Client
}

func startRegistry(t *testing.T) *registry { return startRegistryTB(t) }

func startRegistryTB(t testing.TB) *registry {
	t.Helper()
	rd := testkit.StartRedis(t)
	srv := httptest.NewServer(NewServer(rd.Client()))
	t.Cleanup(srv.Close)
	return &registry{redis: rd, http: srv, client: newTestClient(t, srv.URL)}
}

// newTestClient returns a Client whose idle connections close with the test.
func newTestClient(t testing.TB, url string) *Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return NewClient(url, &http.Client{Transport: tr, Timeout: 5 * time.Second})
}

// sampleTransaction is a record of transaction.avsc in decoded form.
func sampleTransaction() map[string]any {
	rec := map[string]any{
		"event_id":     "ev-1",
		"entity_id":    "card-42",
		"event_time":   time.UnixMilli(1_700_000_000_123).UTC(),
		"card_present": true,
		"channel":      "web",
	}
	for i, name := range numericFields {
		rec[name] = float64(i) + 0.5
	}
	rec["customer_income"] = 52000.0
	return rec
}

var numericFields = []string{
	"amount", "amount_zscore_30d", "hour_of_day", "day_of_week", "merchant_risk",
	"distance_from_home_km", "distance_from_last_km", "seconds_since_last_txn",
	"txn_count_1h", "txn_count_24h", "amount_sum_24h", "avg_amount_30d",
	"card_age_days", "account_age_days", "failed_logins_24h", "ip_risk_score",
	"device_trust", "velocity_score", "chargebacks_180d", "mcc_risk",
}

func isUnavailable(err error) bool { return errors.Is(err, ErrRegistryUnavailable) }
