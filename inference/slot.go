package inference

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// initialRows is the batch size a slot's buffers start with; they grow to
// fit a larger batch.
const initialRows = 256

// slot is one session with its own input and output buffers. For each batch
// size n it keeps a pair of tensors over the first n rows of those buffers,
// made the first time n is seen, so a Run allocates no tensor. A slot is
// used by one goroutine at a time.
type slot struct {
	sess      *ort.DynamicAdvancedSession
	width     int
	outWidth  int
	outRank   int
	inBuf     []float32
	outBuf    []float32
	ins, outs []*ort.Tensor[float32] // by n-1; nil until used
	inVals    []ort.Value
	outVals   []ort.Value
}

func newSlot(sess *ort.DynamicAdvancedSession, width, outWidth, outRank int) *slot {
	s := &slot{
		sess: sess, width: width, outWidth: outWidth, outRank: outRank,
		inVals: make([]ort.Value, 1), outVals: make([]ort.Value, 1),
	}
	s.resize(initialRows)
	return s
}

// resize drops the cached tensors and makes buffers for rows rows.
func (s *slot) resize(rows int) {
	s.dropTensors()
	s.inBuf = make([]float32, rows*s.width)
	s.outBuf = make([]float32, rows*s.outWidth)
	s.ins = make([]*ort.Tensor[float32], rows)
	s.outs = make([]*ort.Tensor[float32], rows)
}

func (s *slot) rows() int { return len(s.ins) }

// tensors returns the input and output tensors for a batch of n rows.
func (s *slot) tensors(n int) (*ort.Tensor[float32], *ort.Tensor[float32], error) {
	if n > s.rows() {
		s.resize(max(n, 2*s.rows()))
	}
	if in, out := s.ins[n-1], s.outs[n-1]; in != nil {
		return in, out, nil
	}
	in, err := ort.NewTensor(ort.NewShape(int64(n), int64(s.width)), s.inBuf)
	if err != nil {
		return nil, nil, fmt.Errorf("creating input tensor: %w", err)
	}
	outShape := ort.NewShape(int64(n), int64(s.outWidth))
	if s.outRank == 1 {
		outShape = ort.NewShape(int64(n))
	}
	out, err := ort.NewTensor(outShape, s.outBuf)
	if err != nil {
		_ = in.Destroy()
		return nil, nil, fmt.Errorf("creating output tensor: %w", err)
	}
	s.ins[n-1], s.outs[n-1] = in, out
	return in, out, nil
}

// run infers n rows from rows into out, both already checked for length.
func (s *slot) run(rows []float32, n int, out []float32) error {
	in, res, err := s.tensors(n)
	if err != nil {
		return err
	}
	copy(s.inBuf, rows[:n*s.width])
	s.inVals[0], s.outVals[0] = in, res
	if err := s.sess.Run(s.inVals, s.outVals); err != nil {
		return err
	}
	copy(out, s.outBuf[:n*s.outWidth])
	return nil
}

func (s *slot) dropTensors() {
	for i := range s.ins {
		if s.ins[i] != nil {
			_ = s.ins[i].Destroy()
			_ = s.outs[i].Destroy()
			s.ins[i], s.outs[i] = nil, nil
		}
	}
}

func (s *slot) destroy() error {
	s.dropTensors()
	s.inVals[0], s.outVals[0] = nil, nil
	return s.sess.Destroy()
}
