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
	layout        *outLayout // the outputs as this model gives them
	batch         int        // every run has this many events (0: any number)
	metrics       *Metrics

	slots     chan *slot // idle sessions
	all       []*slot
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error
}

// LoadModel creates cfg.Sessions sessions of the ONNX model onnx, checks
// that its inputs and outputs match sig (names, element types, shapes, and
// what each output kind needs), reads a ZipMap's classes from a first run,
// and runs a warm-up batch on each session before it returns: one event and
// a full first batch, or one run of a fixed batch size. sig is validated if
// it has not been. If InitRuntime has not been called, LoadModel
// initializes the runtime from FindLibrary. m may be nil. It is safe for
// concurrent use.
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
	layout, err := checkModelIO(onnx, sig)
	if err != nil {
		return nil, err
	}
	sessions, provider, err := openSessions(onnx, sig, cfg)
	if err != nil {
		return nil, err
	}
	model := &Model{
		name: name, version: version, sig: sig, provider: provider,
		width: sig.Width(), layout: layout, batch: sig.plan.fixedBatch(), metrics: m,
		slots: make(chan *slot, len(sessions)),
		done:  make(chan struct{}),
	}
	for _, s := range sessions {
		sl := newSlot(s, sig.plan, layout)
		model.all = append(model.all, sl)
		model.slots <- sl
	}
	if err := model.resolveZipMap(); err != nil {
		_ = model.Close()
		return nil, err
	}
	model.outWidth = layout.width
	if err := model.warmUp(); err != nil {
		_ = model.Close()
		return nil, fmt.Errorf("warming up: %w", err)
	}
	m.setProvider(cfg.Provider, provider)
	return model, nil
}

// resolveZipMap reads the classes of a ZipMap output that the signature
// does not list from a run of one zero event, and lays the outputs out.
func (m *Model) resolveZipMap() error {
	l := m.layout
	if l.resolved {
		return nil
	}
	for i := range l.outs {
		if o := &l.outs[i]; o.kind == OutputZipMap && o.classes == nil {
			s := m.all[0]
			n := max(m.batch, 1)
			s.pad(0, n)
			scratch := make([]float32, l.width+1) // the other outputs, laid out without the ZipMap
			if err := s.exec(n, 1, scratch); err != nil {
				return fmt.Errorf("reading the classes of ZipMap output %q: %w", o.tensor, err)
			}
			if len(o.classes) < 2 {
				return fmt.Errorf("ZipMap output %q has %d classes, want at least 2", o.tensor, len(o.classes))
			}
		}
	}
	l.layOut()
	if !l.resolved {
		return errors.New("inference: outputs not resolved") // every width is known by now
	}
	return l.resolveLabel()
}

// warmUp runs a batch of one event and a full initial batch (or one run of
// a fixed batch size) of zeros on every session, so the first events do not
// pay for lazy initialization.
func (m *Model) warmUp() error {
	sizes := []int{1, initialRows}
	if m.batch > 0 {
		sizes = []int{m.batch}
	}
	out := make([]float32, sizes[len(sizes)-1]*m.outWidth)
	for _, s := range m.all {
		for _, n := range sizes {
			if n > s.rows {
				s.resize(n)
			}
			s.pad(0, n)
			if err := s.exec(n, n, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// Infer runs the model on n rows, rows[:n*Width()] row after row, and
// returns the n*OutWidth() outputs in out (grown if its capacity is too
// small). It takes float32 rows, so only a model whose inputs are all
// float32 (Signature.Float32Only; any other returns ErrNotFloat32); use
// InferRows for any model. It waits for an idle session until ctx ends; a
// run that has started is not interrupted. It is safe for concurrent use:
// up to SessionConfig.Sessions calls run at once.
func (m *Model) Infer(ctx context.Context, rows []float32, n int, out []float32) ([]float32, error) {
	if !m.sig.plan.float32Only {
		return nil, ErrNotFloat32
	}
	if n < 0 || len(rows) < n*m.width {
		m.metrics.inferError()
		return nil, fmt.Errorf("inference: %d rows of %d columns need %d values, got %d", n, m.width, n*m.width, len(rows))
	}
	return m.run(ctx, n, out, func(s *slot, from, count int) {
		s.fillFloat32(rows[from*m.width:], count, 0)
	})
}

// InferRows runs the model on rows (one per event, as MapFieldsInto or
// MapRecordInto filled them for this model's signature) and returns the
// len(rows)*OutWidth() outputs in out (grown if its capacity is too small).
// A model with a fixed batch size runs the rows in batches of that size,
// the last one padded with zeros. Otherwise as Infer.
func (m *Model) InferRows(ctx context.Context, rows []*Row, out []float32) ([]float32, error) {
	p := m.sig.plan
	for i, r := range rows {
		if len(r.num) != p.numBytes || len(r.str) != p.strs {
			m.metrics.inferError()
			return nil, fmt.Errorf("inference: row %d was not mapped with this model's signature", i)
		}
	}
	return m.run(ctx, len(rows), out, func(s *slot, from, count int) {
		s.fillRows(rows[from:from+count], 0)
	})
}

// run infers n events, filling a slot's inputs with fill, in one run or in
// runs of the model's fixed batch size.
func (m *Model) run(ctx context.Context, n int, out []float32, fill func(s *slot, from, count int)) ([]float32, error) {
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
	chunk := n
	if m.batch > 0 {
		chunk = m.batch
	}
	var err error
	for from := 0; from < n && err == nil; from += chunk {
		count := min(chunk, n-from)
		size := count
		if m.batch > 0 {
			size = m.batch
		}
		if size > s.rows {
			s.resize(max(size, 2*s.rows))
		}
		fill(s, from, count)
		if count < size {
			s.pad(count, size)
		}
		err = s.exec(size, count, out[from*m.outWidth:])
	}
	m.slots <- s
	if err != nil {
		m.metrics.inferError()
		return nil, fmt.Errorf("running model %s version %s: %w", m.name, m.version, err)
	}
	m.metrics.observeBatch(n, time.Since(start).Seconds())
	return out, nil
}

// Sessions is how many runs the model takes at once: its ONNX Runtime
// sessions (SessionConfig.Sessions). It is safe for concurrent use.
func (m *Model) Sessions() int { return len(m.all) }

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

// OutWidth is the number of output values per event: every output's part
// of the row, in the order of the signature's outputs. It is safe for
// concurrent use.
func (m *Model) OutWidth() int { return m.outWidth }

// MaxBatch is the number of events every run of the model takes (its fixed
// batch size, 1 for a model without a batch dimension), or 0 when it takes
// any number. Infer and InferRows split larger batches and pad smaller
// ones; a batcher in front of the model should cap its batches at MaxBatch.
// It is safe for concurrent use.
func (m *Model) MaxBatch() int { return m.batch }

// ReadOutput reads one event's output row, row[:OutWidth()] of what Infer
// or InferRows returned (see Result). It does not allocate (but for the
// class of an int64 label without classes) and is safe for concurrent use.
func (m *Model) ReadOutput(row []float32) Result { return m.layout.read(row) }

// Classes is the class names of the model's classifier (or label) output,
// in the order of Result.Scores: the signature's, or a ZipMap's keys. It
// is nil for a model that does not classify; callers must not modify it.
// It is safe for concurrent use.
func (m *Model) Classes() []string { return m.layout.classes }

// HasNamed reports whether the model has outputs a prediction carries by
// name (see AppendNamed). It is safe for concurrent use.
func (m *Model) HasNamed() bool { return len(m.layout.named) > 0 }

// AppendNamed appends the outputs a prediction carries by name (vector
// outputs, and score outputs beside the primary one) of one event's output
// row to dst. The values are parts of row. It is safe for concurrent use.
func (m *Model) AppendNamed(dst []NamedOutput, row []float32) []NamedOutput {
	return m.layout.appendNamed(dst, row)
}
