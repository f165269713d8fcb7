package inference

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrClosed is returned by Infer on a closed Model.
var ErrClosed = errors.New("inference: model closed")

// Model is one loaded version of a model: its signature and a pool of ONNX
// Runtime sessions. Its methods are safe for concurrent use.
type Model struct {
	name, version string
	sig           *Signature
	provider      Provider
	width         int
	outWidth      int
	metrics       *Metrics

	slots     chan *slot // idle sessions
	all       []*slot
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error
}

// LoadModel creates cfg.Sessions sessions of the ONNX model onnx, checks
// that its input and output tensors match sig (names, float32, [N width]
// and [N OutWidth]), and runs a warm-up batch on each session before it
// returns. sig is validated if it has not been. If InitRuntime has not been
// called, LoadModel initializes the runtime from FindLibrary. m may be nil.
// It is safe for concurrent use.
func LoadModel(name, version string, onnx []byte, sig *Signature, cfg SessionConfig, m *Metrics) (*Model, error) {
	model, err := loadModel(name, version, onnx, sig, cfg, m)
	if err != nil {
		return nil, fmt.Errorf("loading model %s version %s: %w", name, version, err)
	}
	return model, nil
}

func loadModel(name, version string, onnx []byte, sig *Signature, cfg SessionConfig, m *Metrics) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cfg.Logger = cfg.Logger.With("model", name, "version", version)
	if sig == nil {
		return nil, errors.New("inference: nil signature")
	}
	if sig.plan == nil {
		if err := sig.Validate(); err != nil {
			return nil, err
		}
	}
	if err := ensureRuntime(); err != nil {
		return nil, err
	}
	outRank, err := checkModelIO(onnx, sig)
	if err != nil {
		return nil, err
	}
	sessions, provider, err := openSessions(onnx, sig, cfg)
	if err != nil {
		return nil, err
	}
	model := &Model{
		name: name, version: version, sig: sig, provider: provider,
		width: sig.Width(), outWidth: sig.OutWidth(), metrics: m,
		slots: make(chan *slot, len(sessions)),
		done:  make(chan struct{}),
	}
	for _, s := range sessions {
		sl := newSlot(s, model.width, model.outWidth, outRank)
		model.all = append(model.all, sl)
		model.slots <- sl
	}
	if err := model.warmUp(); err != nil {
		_ = model.Close()
		return nil, fmt.Errorf("warming up: %w", err)
	}
	m.setProvider(cfg.Provider, provider)
	return model, nil
}

// warmUp runs a batch of one row and a full initial batch of zeros on
// every session, so the first events do not pay for lazy initialization.
func (m *Model) warmUp() error {
	rows := make([]float32, initialRows*m.width)
	out := make([]float32, initialRows*m.outWidth)
	for _, s := range m.all {
		for _, n := range []int{1, initialRows} {
			if err := s.run(rows, n, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// Infer runs the model on n rows, rows[:n*Width()] row after row, and
// returns the n*OutWidth() outputs in out (grown if its capacity is too
// small). It waits for an idle session until ctx ends; a run that has
// started is not interrupted. It is safe for concurrent use: up to
// SessionConfig.Sessions calls run at once.
func (m *Model) Infer(ctx context.Context, rows []float32, n int, out []float32) ([]float32, error) {
	if n < 0 || len(rows) < n*m.width {
		m.metrics.inferError()
		return nil, fmt.Errorf("inference: %d rows of %d columns need %d values, got %d", n, m.width, n*m.width, len(rows))
	}
	need := n * m.outWidth
	if cap(out) < need {
		out = make([]float32, need)
	}
	out = out[:need]
	if n == 0 {
		return out, nil
	}
	var s *slot
	select {
	case <-m.done:
		return nil, ErrClosed
	default:
	}
	select {
	case s = <-m.slots:
	case <-m.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a session: %w", ctx.Err())
	}
	start := time.Now()
	err := s.run(rows, n, out)
	m.slots <- s
	if err != nil {
		m.metrics.inferError()
		return nil, fmt.Errorf("running model %s version %s: %w", m.name, m.version, err)
	}
	m.metrics.observeBatch(n, time.Since(start).Seconds())
	return out, nil
}

// Close waits for running Infer calls to finish, then frees the sessions.
// Later Infer calls return ErrClosed. It is safe to call more than once and
// concurrently with Infer.
func (m *Model) Close() error {
	m.closeOnce.Do(func() {
		close(m.done)
		for range m.all {
			<-m.slots
		}
		var errs []error
		for _, s := range m.all {
			errs = append(errs, s.destroy())
		}
		m.closeErr = errors.Join(errs...)
	})
	return m.closeErr
}

// Name is the model's name. It is safe for concurrent use.
func (m *Model) Name() string { return m.name }

// Version is the model's version. It is safe for concurrent use.
func (m *Model) Version() string { return m.version }

// Signature is the signature the model was loaded with; callers must not
// modify it. It is safe for concurrent use.
func (m *Model) Signature() *Signature { return m.sig }

// Provider is the execution provider the sessions run on (cpu or cuda,
// never auto). It is safe for concurrent use.
func (m *Model) Provider() Provider { return m.provider }

// Width is the number of input columns per row. It is safe for concurrent
// use.
func (m *Model) Width() int { return m.width }

// OutWidth is the number of output values per row. It is safe for
// concurrent use.
func (m *Model) OutWidth() int { return m.outWidth }
