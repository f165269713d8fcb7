package registry

import (
	"fmt"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/sluice-ml/sluice/inference"
)

// outputDraft is how a draft reads one model output (skip: not at all).
type outputDraft struct {
	t       draftTensor
	skip    bool
	kind    inference.OutputKind
	classes []string
	act     inference.Activation
	todo    string
	notes   []string
}

// readOutputs gives every output a kind. A model has one classifier
// output at most: the first zipmap, else the first [N, C] output that a
// Softmax or Sigmoid computes or whose name says probabilities or logits.
func (d *drafter) readOutputs() {
	classifier := false
	for _, o := range d.outs {
		switch o.t.value {
		case ort.ONNXTypeTensor:
		case ort.ONNXTypeSequence:
			if classifier {
				o.skip = true
				o.notes = append(o.notes, "a second sequence of maps: left out (a model has one classifier output)")
				continue
			}
			o.kind, classifier = inference.OutputZipMap, true
			o.notes = append(o.notes, "a sequence of maps, as skl2onnx's ZipMap gives: class → probability, the classes its keys")
		default:
			o.skip = true
			o.notes = append(o.notes, fmt.Sprintf("a %s, which sluice does not read: left out", o.t.describe()))
		}
	}
	for _, o := range d.outs {
		if o.t.tensor() {
			classifier = d.readTensor(o, classifier)
		}
	}
	d.labelClasses()
}

// readTensor gives a tensor output its kind and reports whether the model
// has its classifier output now.
func (d *drafter) readTensor(o *outputDraft, classifier bool) bool {
	w, ev, name := d.width(o.t), d.eventDims(o.t), strings.ToLower(o.t.name)
	switch {
	case o.t.dtype == "":
		o.skip = true
		o.notes = append(o.notes, fmt.Sprintf("sluice cannot read %s tensors: left out", o.t.elem))
	case w < 0:
		o.kind = inference.OutputVector
		o.todo = fmt.Sprintf("output %q (%s) has a symbolic dimension besides the batch: give its shape with numbers, or leave it out", o.t.name, o.t.describe())
	case o.t.dtype == inference.DTypeString && w == 1:
		o.kind = inference.OutputLabel
	case o.t.dtype == inference.DTypeString:
		o.skip = true
		o.notes = append(o.notes, "strings other than one label per event: left out")
	case o.t.integer() && w == 1 && (len(ev) == 0 || hasAny(name, "label", "class", "pred", "argmax")):
		o.kind = inference.OutputLabel
	case !o.t.float() && w == 1:
		o.kind = inference.OutputScore
	case !o.t.float():
		o.kind = inference.OutputVector
	case w == 1 && hasAny(name, "logit") && !classifier:
		o.kind, o.act, o.classes = inference.OutputLogits, inference.ActivationSigmoid, []string{"0", "1"}
		o.notes = append(o.notes, "one logit by its name: a binary classifier's, made a probability of class 1 by a sigmoid; rename the classes")
		return true
	case w == 1:
		o.kind = inference.OutputScore
	case len(ev) != 1 || classifier:
		o.kind = inference.OutputVector
	default:
		return d.readScores(o, w, name)
	}
	return classifier
}

// readScores reads a float [N, C] output, C > 1, of a model without a
// classifier output yet, and reports whether it is one.
func (d *drafter) readScores(o *outputDraft, c int, name string) bool {
	op := d.ops[o.t.name]
	classes := make([]string, c)
	for i := range classes {
		classes[i] = strconv.Itoa(i)
	}
	unnamed := fmt.Sprintf("the model does not name its %d classes: named 0 to %d in the order of its columns; rename them", c, c-1)
	switch {
	case op == "Softmax" || hasAny(name, "prob", "softmax"):
		o.kind, o.classes = inference.OutputProbabilities, classes
		why := "computed by a Softmax"
		if op != "Softmax" {
			why = "probabilities by its name"
		}
		o.notes = append(o.notes, why+"; "+unnamed)
	case op == "Sigmoid":
		o.kind, o.classes = inference.OutputProbabilities, classes
		o.notes = append(o.notes, "computed by a Sigmoid: each class's probability on its own; "+unnamed)
	case hasAny(name, "logit"):
		o.kind, o.act, o.classes = inference.OutputLogits, inference.ActivationSoftmax, classes
		o.notes = append(o.notes, "logits by its name, made probabilities by a softmax (sigmoid if the classes are independent labels); "+unnamed)
	case hasAny(name, "embed", "hidden", "latent", "vector", "feature", "encod"):
		o.kind = inference.OutputVector
		return false
	default:
		o.kind = inference.OutputVector
		by := ""
		if op != "" {
			by = ", computed by " + op
		}
		o.todo = fmt.Sprintf("output %q (%s%s): class logits or a vector? drafted as a vector; for a classifier write kind: logits, activation: softmax and its %d classes", o.t.name, o.t.describe(), by, c)
		return false
	}
	return true
}

// labelClasses asks for the classes of a string label that no
// classifier output names.
func (d *drafter) labelClasses() {
	var classifier *outputDraft
	for _, o := range d.outs {
		switch o.kind {
		case inference.OutputProbabilities, inference.OutputLogits, inference.OutputZipMap:
			classifier = o
		}
	}
	for _, o := range d.outs {
		if o.kind != inference.OutputLabel || o.t.dtype != inference.DTypeString {
			continue
		}
		switch {
		case classifier == nil:
			o.todo = fmt.Sprintf("which classes does label output %q give? list them (classes: [...])", o.t.name)
		case classifier.kind != inference.OutputZipMap:
			classifier.todo = fmt.Sprintf("name the classes of %q as label output %q writes them (strings), in the order of its columns", classifier.t.name, o.t.name)
		}
	}
}

func hasAny(s string, parts ...string) bool {
	for _, p := range parts {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
