package drift

import (
	"bytes"
	"net/http"
	"os"
	"testing"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/schemas"
)

// The RetrainRequested schema with the onset, windows, kind and quality
// fields is FULL-compatible with the first one (testdata), as the schema
// registry checks it: consumers on either schema read records written with
// the other.
func TestRetrainRequestedCompatible(t *testing.T) {
	old, err := os.ReadFile("testdata/retrain_requested.v1.avsc")
	if err != nil {
		t.Fatal(err)
	}
	rdb := testkit.StartRedis(t).Client()
	t.Cleanup(func() { _ = rdb.Close() })
	srv, err := schemas.Listen("127.0.0.1:0", rdb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := schemas.NewClient(srv.URL, &http.Client{Transport: tr})
	const subject = "retrain-requests-value"
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/config/"+subject, bytes.NewReader([]byte(`{"compatibility":"FULL_TRANSITIVE"}`)))
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("setting FULL_TRANSITIVE: %s", resp.Status)
	}
	v1, err := c.Register(t.Context(), subject, string(old))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := c.Register(t.Context(), subject, RetrainRequestedSchema)
	if err != nil {
		t.Fatalf("the registry refused the new schema: %v", err)
	}
	if v1 == v2 {
		t.Fatal("the new schema registered under the old id: it did not change")
	}
}
