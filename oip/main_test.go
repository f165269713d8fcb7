package oip_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/sluice-ml/sluice/admin"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/oip"
	"github.com/sluice-ml/sluice/pipeline"
)

// start runs a worker with the protocol on its admin server.
func start(t *testing.T, env *testworker.Env, group string, cfg oip.Config) *testworker.Worker {
	t.Helper()
	return env.StartWorker(pipeline.Config{Group: group}, testworker.Options{
		Handlers: func(w *pipeline.Worker, adm *admin.Server) { oip.New(w, cfg).Register(adm) },
	})
}

// call sends a request and decodes the JSON answer into out (when not nil).
func call(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, body %s", method, url, ct, b)
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, url, b, err)
		}
	}
	return resp.StatusCode
}

// tensor is one named tensor of a request or response, as a KServe client
// writes and reads it.
type tensor struct {
	Name     string `json:"name"`
	Shape    []int  `json:"shape"`
	Datatype string `json:"datatype"`
	Data     []any  `json:"data"`
}

type inferResponse struct {
	ModelName    string   `json:"model_name"`
	ModelVersion string   `json:"model_version"`
	ID           string   `json:"id"`
	Outputs      []tensor `json:"outputs"`
	Error        string   `json:"error"`
}

func (r *inferResponse) output(t *testing.T, name string) tensor {
	t.Helper()
	for _, o := range r.Outputs {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("response has no output %q: %+v", name, r)
	return tensor{}
}

func register(cfg oip.Config) func(*pipeline.Worker, *admin.Server) {
	return func(w *pipeline.Worker, adm *admin.Server) { oip.New(w, cfg).Register(adm) }
}

// unreachable is a broker address nothing listens on.
func unreachable(t *testing.T) []string {
	return []string{fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))}
}
