package inference

import (
	"fmt"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"
)

// initialRows is the batch size a slot's buffers start with; they grow to
// fit a larger batch.
const initialRows = 256

// slot is one session with its own input and output buffers. For each batch
// size n it keeps the input tensors (and the output tensors of known shape)
// over the first n rows of those buffers, made the first time n is seen, so
// a run of a numeric model allocates no tensor. A slot is used by one
// goroutine at a time.
type slot struct {
	sess    *ort.DynamicAdvancedSession
	plan    *mapPlan
	layout  *outLayout
	rows    int // capacity of the buffers, in events
	ins     []inBuf
	outs    []outBuf
	inVals  []ort.Value
	outVals []ort.Value
}

// inBuf is one input tensor's buffer and its tensors by batch size.
type inBuf struct {
	ip      *inPlan
	num     []byte   // rows*width elements of a numeric input
	str     []string // rows*width strings of a string input
	tensors []ort.Value
}

// outBuf is one output's buffer (outputs of known shape) and its tensors
// by batch size; the others are allocated by ONNX Runtime on every run.
type outBuf struct {
	op      *outPlan
	num     []byte
	tensors []ort.Value
}

func newSlot(sess *ort.DynamicAdvancedSession, p *mapPlan, l *outLayout) *slot {
	s := &slot{sess: sess, plan: p, layout: l,
		ins: make([]inBuf, len(p.ins)), outs: make([]outBuf, len(l.outs)),
		inVals: make([]ort.Value, len(p.ins)), outVals: make([]ort.Value, len(l.outs)),
	}
	for i := range s.ins {
		s.ins[i].ip = &p.ins[i]
	}
	for i := range s.outs {
		s.outs[i].op = &l.outs[i]
	}
	s.resize(startRows(p))
	return s
}

// startRows is the batch size buffers start with: a fixed batch, or
// initialRows.
func startRows(p *mapPlan) int {
	if b := p.fixedBatch(); b > 0 {
		return b
	}
	return initialRows
}

// fixedBatch is the batch size every run must have (1 without a batch
// dimension), or 0 when any size goes.
func (p *mapPlan) fixedBatch() int {
	if p.noBatch {
		return 1
	}
	return p.batch
}

// resize drops the cached tensors and makes buffers for rows events.
func (s *slot) resize(rows int) {
	s.dropTensors()
	s.rows = rows
	for i := range s.ins {
		b := &s.ins[i]
		if b.ip.et == eString {
			b.str = make([]string, rows*b.ip.width)
		} else {
			b.num = alignedBytes(rows * b.ip.width * b.ip.et.info().size)
		}
		b.tensors = make([]ort.Value, rows)
	}
	for i := range s.outs {
		b := &s.outs[i]
		b.num, b.tensors = nil, nil
		if b.op.prealloc {
			b.num = alignedBytes(rows * b.op.srcWidth * b.op.et.info().size)
			b.tensors = make([]ort.Value, rows)
		}
	}
}

// alignedBytes makes n bytes aligned for any element type.
func alignedBytes(n int) []byte {
	words := make([]uint64, (n+7)/8)
	if len(words) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), n)
}

// shapeFor is a tensor's shape for a batch of n events.
func shapeFor(shape Shape, n int, noBatch bool) ort.Shape {
	out := make(ort.Shape, len(shape))
	copy(out, shape)
	if !noBatch && len(out) > 0 {
		out[0] = int64(n)
	}
	return out
}

// tensors sets inVals and outVals for a batch of n rows.
func (s *slot) tensors(n int) error {
	if n > s.rows {
		s.resize(max(n, 2*s.rows))
	}
	for i := range s.ins {
		b := &s.ins[i]
		t := b.tensors[n-1]
		if t == nil {
			var err error
			shape := shapeFor(b.ip.shape, n, s.plan.noBatch)
			if b.ip.et == eString {
				t, err = ort.NewStringTensor(shape)
			} else {
				t, err = ort.NewCustomDataTensor(shape, b.num[:n*b.ip.width*b.ip.et.info().size], b.ip.et.info().ort)
			}
			if err != nil {
				return fmt.Errorf("creating input tensor %q: %w", b.ip.tensor, err)
			}
			b.tensors[n-1] = t
		}
		s.inVals[i] = t
	}
	for i := range s.outs {
		b := &s.outs[i]
		if !b.op.prealloc {
			s.outVals[i] = nil // ONNX Runtime allocates it
			continue
		}
		t := b.tensors[n-1]
		if t == nil {
			var err error
			shape := shapeFor(b.op.shape, n, s.plan.noBatch)
			t, err = ort.NewCustomDataTensor(shape, b.num[:n*b.op.srcWidth*b.op.et.info().size], b.op.et.info().ort)
			if err != nil {
				return fmt.Errorf("creating output tensor %q: %w", b.op.tensor, err)
			}
			b.tensors[n-1] = t
		}
		s.outVals[i] = t
	}
	return nil
}

// fillFloat32 copies count float32 rows (float32-only signatures) into the
// input buffers from row at.
func (s *slot) fillFloat32(rows []float32, count, at int) {
	src := float32Bytes(rows[:count*s.plan.width])
	rowBytes := 4 * s.plan.width
	if len(s.ins) == 1 {
		copy(s.ins[0].num[at*rowBytes:], src)
		return
	}
	for e := range count {
		row := src[e*rowBytes : (e+1)*rowBytes]
		for i := range s.ins {
			b := &s.ins[i]
			w := 4 * b.ip.width
			copy(b.num[(at+e)*w:(at+e+1)*w], row[b.ip.off:b.ip.off+w])
		}
	}
}

// fillRows copies rows into the input buffers from row at.
func (s *slot) fillRows(rows []*Row, at int) {
	for e, r := range rows {
		for i := range s.ins {
			b := &s.ins[i]
			w := b.ip.width
			if b.ip.et == eString {
				copy(b.str[(at+e)*w:(at+e+1)*w], r.str[b.ip.off:b.ip.off+w])
				continue
			}
			w *= b.ip.et.info().size
			copy(b.num[(at+e)*w:(at+e+1)*w], r.num[b.ip.off:b.ip.off+w])
		}
	}
}

// pad zeroes the input rows from..to-1 (a fixed batch's unused rows).
func (s *slot) pad(from, to int) {
	for i := range s.ins {
		b := &s.ins[i]
		w := b.ip.width
		if b.ip.et == eString {
			clear(b.str[from*w : to*w])
			continue
		}
		w *= b.ip.et.info().size
		clear(b.num[from*w : to*w])
	}
}

// exec runs the session on the n rows filled and reads the first keep
// events' outputs into out (keep*layout.width values).
func (s *slot) exec(n, keep int, out []float32) error {
	if err := s.tensors(n); err != nil {
		return err
	}
	for i := range s.ins {
		b := &s.ins[i]
		if b.ip.et == eString {
			if err := b.tensors[n-1].(*ort.StringTensor).SetContents(b.str[:n*b.ip.width]); err != nil {
				return fmt.Errorf("setting input %q: %w", b.ip.tensor, err)
			}
		}
	}
	err := s.sess.Run(s.inVals, s.outVals)
	if err == nil {
		err = s.readOutputs(n, keep, out)
	}
	for i := range s.outs {
		if !s.outs[i].op.prealloc && s.outVals[i] != nil {
			_ = s.outVals[i].Destroy()
			s.outVals[i] = nil
		}
	}
	return err
}

func (s *slot) dropTensors() {
	for i := range s.ins {
		for k, t := range s.ins[i].tensors {
			if t != nil {
				_ = t.Destroy()
				s.ins[i].tensors[k] = nil
			}
		}
	}
	for i := range s.outs {
		for k, t := range s.outs[i].tensors {
			if t != nil {
				_ = t.Destroy()
				s.outs[i].tensors[k] = nil
			}
		}
	}
}

func (s *slot) destroy() error {
	s.dropTensors()
	clear(s.inVals)
	clear(s.outVals)
	return s.sess.Destroy()
}
