package faults

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/worker"
)

// sessionTimeout is the in-process workers' group session timeout (the
// broker's minimum): a member that misses heartbeats for this long is
// evicted.
const sessionTimeout = 6 * time.Second

// inproc is a pipeline.Worker running in the test process.
type inproc struct {
	w    *worker.Worker
	reg  *prometheus.Registry
	logs *logBuf
	stop func() error
}

// inprocOpts change how startWorker builds a worker.
type inprocOpts struct {
	onnx []byte               // model; nil means the demo model
	sig  *inference.Signature // its signature; nil means the demo one
}

// startWorker runs a pipeline.Worker against e's servers with test timings
// for its group reader (kfake's minimum session timeout is 6s).
func (e *env) startWorker(cfg pipeline.Config, o inprocOpts) *inproc {
	e.t.Helper()
	logs := &logBuf{}
	tw := testworker.Attach(e.t, e.kafka, e.client, e.onnx, e.sig).StartWorker(cfg, testworker.Options{
		ONNX: o.onnx, Sig: o.sig, Log: logs,
		Reader: func(rc *consumers.ReaderConfig) {
			rc.SessionTimeout, rc.HeartbeatInterval = sessionTimeout, 500*time.Millisecond
			rc.RebalanceTimeout, rc.JoinGroupBackoff = 5*time.Second, 200*time.Millisecond
		},
	})
	e.t.Cleanup(func() { // runs before the worker is stopped
		if e.t.Failed() {
			e.t.Logf("worker log (tail):\n%s", tail(logs.String(), 3000))
		}
	})
	return &inproc{w: tw.W, reg: tw.Reg, logs: logs, stop: tw.Stop}
}

// Write makes logBuf an io.Writer for slog.
func (l *logBuf) Write(b []byte) (int, error) {
	l.add(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

var _ io.Writer = (*logBuf)(nil)

// waitReady waits until every worker has joined the group.
func waitReady(t *testing.T, ws ...*inproc) {
	t.Helper()
	all := make([]*worker.Worker, len(ws))
	for i, w := range ws {
		all[i] = w.w
	}
	testworker.WaitAllReady(t, all...)
}

// gauge reads the sum of a metric's series from reg (0 if absent).
func gauge(reg *prometheus.Registry, name string) float64 { return testkit.Sum(reg, name) }

// committed returns the group's committed offsets of the input topic.
func (e *env) committed(group string) map[int32]int64 {
	out := map[int32]int64{}
	gi := e.kafka.Cluster.GroupInfo(group)
	if gi == nil {
		return out
	}
	for p, c := range gi.Commits[inputTopic] {
		out[p] = c.Offset
	}
	return out
}

// deadLetters reads sluice_dead_letters_total{reason} of w.
func deadLetters(w *inproc, reason string) float64 {
	v, _ := testkit.Value(w.reg, "sluice_dead_letters_total", "reason", reason)
	return v
}
