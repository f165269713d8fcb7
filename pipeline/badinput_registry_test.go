package pipeline_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/dlq"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/schemas"
)

// TestRegistryUnreachableIsRetriedNotDeadLettered: events written with a
// schema the worker has not cached arrive while the schema registry cannot
// be reached. They may decode later, so the worker retries instead of
// dead-lettering them, and scores them all once the registry is back.
func TestRegistryUnreachableIsRetriedNotDeadLettered(t *testing.T) {
	e := newEnv(t, 3)
	reg := startSwitchableProxy(t, e.Registry)
	direct := e.Client
	e.Client = schemas.NewClient(reg.URL, nil) // the worker's way to the registry
	w := e.startWorker(pipeline.Config{Group: "registry-down"})
	e.Client = direct

	// A new schema version, registered directly: the worker must fetch it.
	v2 := withField(t, schemas.TransactionSchema(), map[string]any{"name": "note", "type": "string", "default": ""})
	enc, err := schemas.NewEncoder(t.Context(), direct, "features-v2-value", v2)
	if err != nil {
		t.Fatal(err)
	}
	if enc.ID() == e.Input.ID() {
		t.Fatal("the new schema got the old schema's id")
	}
	reg.down()
	gen := demo.NewGenerator(9)
	const n = 20
	var msgs []kafka.Message
	ids := map[string]bool{}
	for range n {
		rec := gen.Next()
		rec["note"] = "written while the registry was away"
		v, err := enc.Append(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		ids[rec["event_id"].(string)] = true
		msgs = append(msgs, kafka.Message{Key: []byte(rec["entity_id"].(string)), Value: v})
	}
	e.PublishRaw(msgs...)

	deadline := time.Now().Add(20 * time.Second)
	for testutil.ToFloat64(counter(t, w.reg, "sluice_decode_retries_total")) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not retry decoding while the registry was down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := testutil.ToFloat64(counter(t, w.reg, "sluice_predictions_produced_total")); got != 0 {
		t.Errorf("%v predictions while the registry was down", got)
	}
	reg.up()

	preds := e.Read("predictions", n, 30*time.Second, 500*time.Millisecond)
	for _, p := range preds {
		delete(ids, p.Rec["event_id"].(string))
	}
	if len(ids) != 0 || len(preds) != n {
		t.Errorf("%d predictions for %d events; %d events never predicted", len(preds), n, len(ids))
	}
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	for _, class := range dlq.Classes {
		reason := string(class)
		if v := testutil.ToFloat64(deadLetters(t, w.reg, reason)); v != 0 {
			t.Errorf("sluice_dead_letters_total{reason=%q} = %v, want 0", reason, v)
		}
	}
	t.Logf("decode retries while the registry was down: %v", testutil.ToFloat64(counter(t, w.reg, "sluice_decode_retries_total")))
}

// switchableProxy forwards to a registry from a fixed port that can be
// closed (connections refused) and opened again.
type switchableProxy struct {
	URL  string
	t    *testing.T
	addr string
	h    http.Handler
	mu   sync.Mutex
	srv  *http.Server
}

func startSwitchableProxy(t *testing.T, target string) *switchableProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &switchableProxy{t: t, addr: fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)), h: httputil.NewSingleHostReverseProxy(u)}
	p.URL = "http://" + p.addr
	p.up()
	t.Cleanup(p.down)
	return p
}

func (p *switchableProxy) up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	p.srv = &http.Server{Handler: p.h, ReadHeaderTimeout: 5 * time.Second}
	go func(s *http.Server) { _ = s.Serve(ln) }(p.srv)
}

func (p *switchableProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		_ = p.srv.Close()
		p.srv = nil
	}
}
