package devstack_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/loadgen"
)

// sluice dev --config with two routes: the stack creates both routes'
// topics, the demo model serves both, each output gets one prediction per
// event of its input, and /readyz lists both routes.
func TestDevServesTheConfigsRoutes(t *testing.T) {
	cfg, err := config.Parse([]byte(`routes:
  - {name: fraud, input_topic: features, output_topic: predictions, group: sluice}
  - {name: fraud-eu, input_topic: features-eu, output_topic: predictions-eu}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, stop := startWith(t, t.TempDir(), cfg)
	for topic, n := range map[string]int{"features": 300, "features-eu": 200} {
		if _, err := loadgen.Run(t.Context(), loadgen.Config{Brokers: []string{a.Kafka}, RegistryURL: a.RegistryURL, Topic: topic, Count: n, Seed: int64(n)}); err != nil {
			t.Fatal(err)
		}
	}
	for topic, n := range map[string]int{"predictions": 300, "predictions-eu": 200} {
		if got := count(t, a, topic, n, 2*time.Second); got != n {
			t.Errorf("%s: %d predictions, want %d", topic, got, n)
		}
	}
	resp, err := http.Get(a.AdminURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Routes []struct {
			Name  string
			Ready bool
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Routes) != 2 || body.Routes[0].Name != "fraud" || body.Routes[1].Name != "fraud-eu" || !body.Routes[1].Ready {
		t.Errorf("/readyz routes %+v", body.Routes)
	}
	stop()
}
