package inference

import (
	"fmt"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// checkModelIO compares the model's declared inputs and outputs with the
// signature and returns the output layout as this model gives it: every
// output's element type and width known, except a ZipMap's classes when
// the signature does not list them (resolveZipMap reads them from a run).
func checkModelIO(onnx []byte, sig *Signature) (*outLayout, error) {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(onnx)
	if err != nil {
		return nil, fmt.Errorf("reading model inputs and outputs: %w", err)
	}
	p := sig.plan
	legacy := sig.legacy()
	for i, ip := range p.ins {
		at := fmt.Sprintf("inputs[%d]", i)
		if legacy {
			at = "input"
		}
		in, ok := findInfo(ins, ip.tensor)
		if !ok {
			return nil, fmt.Errorf("model inputs are %s, signature %s.tensor is %q", infoNames(ins), at, ip.tensor)
		}
		if err := checkInput(at, in, ip, p, legacy); err != nil {
			return nil, err
		}
	}
	for _, in := range ins {
		if !p.feeds(in.Name) {
			return nil, fmt.Errorf("model inputs are %s, signature feeds only %s: every model input needs an entry in inputs", infoNames(ins), p.inputNames())
		}
	}
	l := p.out.clone()
	for i := range l.outs {
		o := &l.outs[i]
		at := fmt.Sprintf("outputs[%d]", i)
		if legacy {
			at = "output"
		}
		info, ok := findInfo(outs, o.tensor)
		if !ok {
			return nil, fmt.Errorf("model outputs are %s, signature %s.tensor is %q", infoNames(outs), at, o.tensor)
		}
		if err := checkOutput(at, info, o, p); err != nil {
			return nil, err
		}
	}
	l.layOut()
	if err := l.resolveLabel(); err != nil {
		return nil, err
	}
	return l, nil
}

func (p *mapPlan) feeds(name string) bool {
	for _, ip := range p.ins {
		if ip.tensor == name {
			return true
		}
	}
	return false
}

func (p *mapPlan) inputNames() string {
	names := make([]string, len(p.ins))
	for i, ip := range p.ins {
		names[i] = fmt.Sprintf("%q", ip.tensor)
	}
	return "[" + strings.Join(names, " ") + "]"
}

// checkInput checks one input tensor's element type and shape.
func checkInput(at string, in ort.InputOutputInfo, ip inPlan, p *mapPlan, legacy bool) error {
	want := fmt.Sprintf("%s %v (%d elements per event)", ip.et.info().name, ip.shape, ip.width)
	if in.OrtValueType != ort.ONNXTypeTensor || etypeOfORT(in.DataType) != ip.et {
		return fmt.Errorf("model input %s, signature %s needs %s (set %s.dtype)", describe(in), at, want, at)
	}
	if err := shapeFits(in.Dimensions, ip.shape, p.noBatch); err != "" {
		if !p.noBatch && len(in.Dimensions) == len(ip.shape) && ip.shape[0] < 0 && in.Dimensions[0] >= 0 {
			fixed := append(Shape{in.Dimensions[0]}, ip.shape[1:]...)
			return fmt.Errorf("model input %s: its batch dimension is fixed at %d; write %s.shape: %s (sluice then runs batches of %d)",
				describe(in), in.Dimensions[0], at, fixed.YAML(), in.Dimensions[0])
		}
		return fmt.Errorf("model input %s, signature %s needs %s: %s", describe(in), at, want, err)
	}
	return nil
}

// shapeFits compares a model's declared dimensions with a signature's
// shape: the same rank, and each dimension equal or symbolic on the
// model's side; a signature's symbolic (batch) dimension needs a symbolic
// one in the model.
func shapeFits(model []int64, sig Shape, noBatch bool) string {
	if len(model) != len(sig) {
		return fmt.Sprintf("rank %d, not %d", len(model), len(sig))
	}
	for k, d := range sig {
		m := model[k]
		switch {
		case d < 0 && m >= 0:
			return fmt.Sprintf("the model fixes dimension %d at %d", k, m)
		case d >= 0 && m >= 0 && d != m:
			return fmt.Sprintf("dimension %d is %d, not %d", k, m, d)
		}
	}
	return ""
}

// checkOutput checks one output against its kind and resolves its element
// type, shape and width.
func checkOutput(at string, info ort.InputOutputInfo, o *outPlan, p *mapPlan) error {
	if o.kind == OutputZipMap {
		if info.OrtValueType != ort.ONNXTypeSequence {
			return fmt.Errorf("model output %s, signature %s (zipmap) needs a sequence of maps", describe(info), at)
		}
		return nil
	}
	if info.OrtValueType != ort.ONNXTypeTensor {
		hint := ""
		if info.OrtValueType == ort.ONNXTypeSequence {
			hint = " (skl2onnx's ZipMap gives a sequence of maps: use kind: zipmap)"
		}
		return fmt.Errorf("model output %s, signature %s (%s) needs a tensor%s", describe(info), at, o.kind, hint)
	}
	o.et = etypeOfORT(info.DataType)
	switch {
	case o.et == eNone:
		return fmt.Errorf("model output %s: sluice cannot read %s tensors", describe(info), elemName(info.DataType))
	case o.et == eString && o.kind != OutputLabel:
		return fmt.Errorf("model output %s, signature %s (%s) needs numbers", describe(info), at, o.kind)
	case o.kind == OutputLabel && o.et != eString && !o.et.info().integer:
		return fmt.Errorf("model output %s, signature %s (label) needs int64 or string labels", describe(info), at)
	}
	dims := o.shape
	if len(dims) == 0 {
		dims = Shape(info.Dimensions)
	} else if err := shapeFits(info.Dimensions, dims, p.noBatch); err != "" {
		return fmt.Errorf("model output %s, signature %s.shape is %v: %s", describe(info), at, dims, err)
	}
	if !p.noBatch {
		if len(dims) == 0 {
			return fmt.Errorf("model output %s has no batch dimension: use batch: none", describe(info))
		}
		if b := dims[0]; (p.batch == 0 && b >= 0) || (p.batch > 0 && b >= 0 && int(b) != p.batch) {
			return fmt.Errorf("model output %s: its batch dimension is %d, the inputs' is %s", describe(info), b, batchName(p.batch))
		}
	}
	o.shape = dims
	o.srcWidth = dims.eventWidth(p.noBatch)
	if len(dims) == 0 && p.noBatch {
		o.srcWidth = 1 // a scalar
	}
	o.prealloc = o.srcWidth > 0 && o.et != eString
	if o.srcWidth < 0 && o.kind != OutputVector {
		o.srcWidth = 0 // checked on every run
	}
	return checkWidth(at, info, o)
}

// checkWidth checks the elements per event of a tensor output against its
// kind and sets its width in the out row.
func checkWidth(at string, info ort.InputOutputInfo, o *outPlan) error {
	need := func(what string) error {
		return fmt.Errorf("model output %s, signature %s (%s) needs %s per event", describe(info), at, o.kind, what)
	}
	w := o.srcWidth
	switch o.kind {
	case OutputProbabilities:
		if w > 0 && w != len(o.classes) {
			return need(fmt.Sprintf("%d probabilities (one per class)", len(o.classes)))
		}
	case OutputLogits:
		binary := o.act == ActivationSigmoid && len(o.classes) == 2 && w == 1
		if w > 0 && w != len(o.classes) && !binary {
			return need(fmt.Sprintf("%d logits (one per class, or one for a binary sigmoid)", len(o.classes)))
		}
	case OutputScore, OutputLabel:
		if w > 1 {
			return need("one value")
		}
	case OutputVector:
		if w < 0 {
			return fmt.Errorf("model output %s: an event's dimensions are symbolic; give signature %s.shape", describe(info), at)
		}
		o.width = w
	}
	return nil
}

// resolveLabel sets how the label output's values become classes: by name
// (string labels), by value (int64 labels when the classes are integers,
// as a ZipMap's keys are), or as an index into the classes.
func (l *outLayout) resolveLabel() error {
	if l.label < 0 || !l.resolved {
		return nil
	}
	o := &l.outs[l.label]
	o.byName, o.byValue, o.labelRaw = nil, nil, false
	if len(l.classes) == 0 {
		if o.et == eString {
			return fmt.Errorf("label output %q gives strings: list its classes (or read the model's probabilities output, whose classes it takes)", o.tensor)
		}
		o.labelRaw = true
		return nil
	}
	if o.et == eString {
		o.byName = make(map[string]int, len(l.classes))
		for i, c := range l.classes {
			o.byName[c] = i
		}
		return nil
	}
	byValue := make(map[int64]int, len(l.classes))
	for i, c := range l.classes {
		v, err := strconv.ParseInt(c, 10, 64)
		if err != nil {
			return nil // not integers: the label is an index
		}
		byValue[v] = i
	}
	o.byValue = byValue
	return nil
}

func findInfo(infos []ort.InputOutputInfo, name string) (ort.InputOutputInfo, bool) {
	for _, i := range infos {
		if i.Name == name {
			return i, true
		}
	}
	return ort.InputOutputInfo{}, false
}

func infoNames(infos []ort.InputOutputInfo) string {
	names := make([]string, len(infos))
	for i, info := range infos {
		names[i] = fmt.Sprintf("%q", info.Name)
	}
	return "[" + strings.Join(names, " ") + "]"
}

// describe writes an input or output as `"name" is float32 [N 26]`.
func describe(i ort.InputOutputInfo) string {
	if i.OrtValueType != ort.ONNXTypeTensor {
		return fmt.Sprintf("%q is a %s", i.Name, i.OrtValueType)
	}
	return fmt.Sprintf("%q is %s %v", i.Name, elemName(i.DataType), Shape(i.Dimensions))
}
