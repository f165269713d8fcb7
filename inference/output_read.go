package inference

import (
	"fmt"
	"math"
	"strconv"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"
)

// readOutputs writes the first keep events' outputs of a run of n events
// into out, keep rows of layout.width values.
func (s *slot) readOutputs(n, keep int, out []float32) error {
	l := s.layout
	for i := range s.outs {
		b := &s.outs[i]
		o := b.op
		var err error
		if o.kind == OutputZipMap {
			err = readZipMap(o, l, s.outVals[i], keep, out)
		} else {
			err = readTensor(o, l, b, s.outVals[i], n, keep, out)
		}
		if err != nil {
			return fmt.Errorf("reading output %q: %w", o.tensor, err)
		}
	}
	return nil
}

// readTensor reads a tensor output.
func readTensor(o *outPlan, l *outLayout, b *outBuf, v ort.Value, n, keep int, out []float32) error {
	var num []byte
	var strs []string
	if o.prealloc {
		num = b.num[:n*o.srcWidth*o.et.info().size]
	} else {
		var err error
		if num, strs, err = valueData(v); err != nil {
			return err
		}
	}
	per := o.srcWidth
	if per <= 0 { // symbolic in the model: what the kind needs
		per = 1
		if o.kind == OutputProbabilities || o.kind == OutputLogits {
			per = len(o.classes)
		}
	}
	size := len(strs)
	if o.et != eString {
		size = len(num) / o.et.info().size
	}
	if size != n*per && !(o.kind == OutputLogits && size == n) {
		return fmt.Errorf("%d values for %d events, want %d per event", size, n, per)
	}
	per = size / n
	lw := l.width
	switch o.kind {
	case OutputLabel:
		for e := range keep {
			idx, err := o.labelValue(num, strs, e)
			if err != nil {
				return err
			}
			out[e*lw+o.off] = idx
		}
	case OutputLogits:
		for e := range keep {
			activate(o, num, e, per, out[e*lw+o.off:e*lw+o.off+o.width])
		}
	default:
		if o.et == eFloat32 && per == o.width {
			src := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(num))), n*per)
			if lw == per { // the only output: one copy
				copy(out[:keep*per], src)
				return nil
			}
			for e := range keep {
				copy(out[e*lw+o.off:e*lw+o.off+per], src[e*per:(e+1)*per])
			}
			return nil
		}
		for e := range keep {
			for k := range o.width {
				out[e*lw+o.off+k] = float32(getFloat(o.et, num, e*per+k))
			}
		}
	}
	return nil
}

// labelValue is event e's label as it is stored in the out row: its class
// index, or its value when there are no classes.
func (o *outPlan) labelValue(num []byte, strs []string, e int) (float32, error) {
	if o.et == eString {
		if o.byName == nil {
			return 0, nil // a ZipMap's first run, before the classes are known
		}
		i, ok := o.byName[strs[e]]
		if !ok {
			return 0, fmt.Errorf("label %q is not one of the classes", strs[e])
		}
		return float32(i), nil
	}
	v := getInt(o.et, num, e)
	switch {
	case o.labelRaw:
		return float32(v), nil
	case o.byValue != nil:
		i, ok := o.byValue[v]
		if !ok {
			return 0, fmt.Errorf("label %d is not one of the classes", v)
		}
		return float32(i), nil
	}
	return float32(v), nil // an index into the classes, checked when read
}

// activate writes one event's probabilities from its logits.
func activate(o *outPlan, num []byte, e, per int, dst []float32) {
	if o.act == ActivationSigmoid {
		if per == 1 && len(dst) == 2 { // one logit: a binary classifier
			p := sigmoid(getFloat(o.et, num, e))
			dst[0], dst[1] = float32(1-p), float32(p)
			return
		}
		for k := range dst {
			dst[k] = float32(sigmoid(getFloat(o.et, num, e*per+k)))
		}
		return
	}
	m := math.Inf(-1)
	for k := range dst {
		m = math.Max(m, getFloat(o.et, num, e*per+k))
	}
	sum := 0.0
	for k := range dst {
		x := math.Exp(getFloat(o.et, num, e*per+k) - m)
		dst[k] = float32(x)
		sum += x
	}
	for k := range dst {
		dst[k] = float32(float64(dst[k]) / sum)
	}
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	z := math.Exp(x)
	return z / (1 + z)
}

// valueData returns the elements of a tensor ONNX Runtime allocated: its
// bytes, or its strings.
func valueData(v ort.Value) ([]byte, []string, error) {
	switch t := v.(type) {
	case *ort.StringTensor:
		s, err := t.GetContents()
		return nil, s, err
	case *ort.CustomDataTensor:
		return t.GetData(), nil, nil
	case *ort.Tensor[float32]:
		return bytesOf(t.GetData()), nil, nil
	case *ort.Tensor[float64]:
		return bytesOf(t.GetData()), nil, nil
	case *ort.Tensor[int64]:
		return bytesOf(t.GetData()), nil, nil
	case *ort.Tensor[int32]:
		return bytesOf(t.GetData()), nil, nil
	case *ort.Tensor[int16]:
		return bytesOf(t.GetData()), nil, nil
	case *ort.Tensor[int8]:
		return bytesOf(t.GetData()), nil, nil
	case *ort.Tensor[uint64]:
		return bytesOf(t.GetData()), nil, nil
	case *ort.Tensor[uint32]:
		return bytesOf(t.GetData()), nil, nil
	case *ort.Tensor[uint16]:
		return bytesOf(t.GetData()), nil, nil
	case *ort.Tensor[uint8]:
		return bytesOf(t.GetData()), nil, nil
	case *ort.Tensor[bool]:
		return bytesOf(t.GetData()), nil, nil
	case nil:
		return nil, nil, fmt.Errorf("no value")
	}
	return nil, nil, fmt.Errorf("a %s value, not a tensor", v.GetONNXType())
}

func bytesOf[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}

// readZipMap reads skl2onnx's ZipMap: one map from class to probability
// per event. The first run (resolveZipMap) takes the classes from the
// keys; later runs check that each map has exactly those keys.
func readZipMap(o *outPlan, l *outLayout, v ort.Value, keep int, out []float32) error {
	seq, ok := v.(*ort.Sequence)
	if !ok || seq == nil {
		return fmt.Errorf("not a sequence")
	}
	maps, err := seq.GetValues()
	if err != nil {
		return err
	}
	if len(maps) < keep {
		return fmt.Errorf("%d maps for %d events", len(maps), keep)
	}
	for e := range keep {
		m, ok := maps[e].(*ort.Map)
		if !ok {
			return fmt.Errorf("item %d is a %s, not a map", e, maps[e].GetONNXType())
		}
		keys, vals, err := m.GetKeysAndValues()
		if err != nil {
			return err
		}
		if o.classes != nil && sameIntKeys(keys, o.intKeys) {
			if err := zipValues(vals, out[e*l.width+o.off:e*l.width+o.off+o.width]); err != nil {
				return err
			}
			continue
		}
		names, ints, err := zipKeys(keys)
		if err != nil {
			return err
		}
		probs, _, err := valueData(vals)
		if err != nil {
			return err
		}
		et := etypeOfORT(ort.TensorElementDataType(vals.DataType()))
		if et == eNone || et == eString {
			return fmt.Errorf("map values are not numbers")
		}
		if o.classes == nil {
			o.classes, o.intKeys, o.width = names, ints, len(names)
			return nil // resolveZipMap lays the row out again
		}
		dst := out[e*l.width+o.off : e*l.width+o.off+o.width]
		if len(names) != len(dst) {
			return fmt.Errorf("a map with %d classes, want %d", len(names), len(dst))
		}
		for k, name := range names {
			if name != o.classes[k] {
				return fmt.Errorf("map key %q, want %q (class %d)", name, o.classes[k], k)
			}
			dst[k] = float32(getFloat(et, probs, k))
		}
	}
	return nil
}

// sameIntKeys reports whether keys are the int64 keys want, in order.
func sameIntKeys(keys ort.Value, want []int64) bool {
	k, ok := keys.(*ort.Tensor[int64])
	if !ok || want == nil {
		return false
	}
	got := k.GetData()
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// zipValues reads one map's probabilities into dst.
func zipValues(vals ort.Value, dst []float32) error {
	probs, _, err := valueData(vals)
	if err != nil {
		return err
	}
	et := etypeOfORT(ort.TensorElementDataType(vals.DataType()))
	if et == eNone || et == eString || len(probs) != len(dst)*et.info().size {
		return fmt.Errorf("map values are not %d numbers", len(dst))
	}
	for k := range dst {
		dst[k] = float32(getFloat(et, probs, k))
	}
	return nil
}

// zipKeys returns a map's keys as class names (and as int64s for int64
// keys).
func zipKeys(keys ort.Value) ([]string, []int64, error) {
	switch k := keys.(type) {
	case *ort.Tensor[int64]:
		ints := k.GetData()
		names := make([]string, len(ints))
		for i, v := range ints {
			names[i] = strconv.FormatInt(v, 10)
		}
		return names, ints, nil
	case *ort.StringTensor:
		names, err := k.GetContents()
		return names, nil, err
	}
	return nil, nil, fmt.Errorf("map keys are %s, want int64 or string", keys.GetONNXType())
}
