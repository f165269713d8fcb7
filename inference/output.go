package inference

import "strconv"

// Result is how one event's output row reads.
type Result struct {
	// ClassIndex is the predicted class: the label output's class when the
	// model has one, else the argmax of the probabilities (the first on
	// ties); -1 when the model does not classify.
	ClassIndex int
	// Class is the predicted class's name, or "" when the model does not
	// classify.
	Class string
	// Score is one number per event: for a classifier with two classes the
	// probability of the second (the positive class), with more classes the
	// probability of the predicted class; for a score output the score; 0
	// for a model with only a label or only vectors.
	Score float32
	// Scores is the class probabilities in the order of the classes, or the
	// one score: a part of the row read, not a copy.
	Scores []float32
}

// NamedOutput is an output carried in a prediction under its tensor's
// name: a vector output, or a score output beside the primary one.
type NamedOutput struct {
	Name   string
	Values []float32
}

// outPlan is one output of a signature, and once a model is loaded, how
// that model gives it.
type outPlan struct {
	tensor  string
	kind    OutputKind
	act     Activation
	shape   Shape    // from the signature, then the model's declared shape
	classes []string // its own classes (probabilities, logits, zipmap, label)
	off     int      // its part of the out row
	width   int      // its width in the out row, -1 until known
	// Set when a model is loaded.
	et       etype // element type of a tensor output (eNone for a ZipMap)
	srcWidth int   // elements per event in the model's tensor
	prealloc bool  // a tensor of known shape: the session writes into a buffer of ours
	// A label's class lookup (see resolveLabel).
	byName   map[string]int
	byValue  map[int64]int
	labelRaw bool // no classes: the row holds the label's value
	// A ZipMap's keys, in the order its maps give them.
	intKeys []int64
}

// outLayout is where each output lands in an event's out row, and which
// outputs make the prediction's class, scores and score.
type outLayout struct {
	outs       []outPlan
	width      int
	classifier int      // the probabilities, zipmap or logits output, or -1
	label      int      // the label output, or -1
	score      int      // the primary score output, or -1
	classes    []string // the classifier's classes (or the label's own)
	named      []int    // outputs carried by name, in order
	resolved   bool     // every width and class is known
}

// planOutputs checks the outputs of p's signature and lays out what the
// signature alone says.
func planOutputs(p *mapPlan, outAt func(int) string) (*outLayout, error) {
	l := &outLayout{classifier: -1, label: -1, score: -1}
	tensors := map[string]int{}
	for _, in := range p.ins {
		tensors[in.tensor] = -1
	}
	for i, o := range p.outputSpecs {
		at := outAt(i)
		if o.Tensor == "" {
			return nil, invalid("%s.tensor: empty", at)
		}
		if j, dup := tensors[o.Tensor]; dup {
			if j < 0 {
				return nil, invalid("%s.tensor: %q is also an input tensor", at, o.Tensor)
			}
			return nil, invalid("%s.tensor: %q is also %s", at, o.Tensor, outAt(j))
		}
		tensors[o.Tensor] = i
		op, err := planOutput(at, o, p)
		if err != nil {
			return nil, err
		}
		switch o.Kind {
		case OutputProbabilities, OutputZipMap, OutputLogits:
			if l.classifier >= 0 {
				return nil, invalid("%s.kind: %s, but %s already gives the class probabilities (one classifier output per model)", at, o.Kind, outAt(l.classifier))
			}
			l.classifier = i
		case OutputLabel:
			if l.label >= 0 {
				return nil, invalid("%s.kind: label, but %s already gives the label", at, outAt(l.label))
			}
			l.label = i
		case OutputScore:
			if l.score < 0 {
				l.score = i
			}
		}
		l.outs = append(l.outs, op)
	}
	if l.classifier >= 0 && l.label >= 0 && len(l.outs[l.label].classes) > 0 {
		return nil, invalid("%s.classes: a label output takes the classes of %s; give them there", outAt(l.label), outAt(l.classifier))
	}
	if l.classifier >= 0 && l.score >= 0 {
		l.score = -1 // every score output is then carried by name
	}
	for i, o := range l.outs {
		if o.kind == OutputVector || (o.kind == OutputScore && i != l.score) {
			l.named = append(l.named, i)
		}
	}
	l.layOut()
	return l, nil
}

func planOutput(at string, o OutputSpec, p *mapPlan) (outPlan, error) {
	op := outPlan{tensor: o.Tensor, kind: o.Kind, act: o.Activation, shape: o.Shape, width: -1, classes: o.Classes}
	if o.Activation != "" && o.Kind != OutputLogits {
		return op, invalid("%s.activation: only logits outputs have one (%q is %s)", at, o.Tensor, o.Kind)
	}
	if len(o.Shape) > 0 {
		if !p.noBatch {
			if err := p.agreeBatch(at, o.Shape[0]); err != nil {
				return op, err
			}
		}
	}
	switch o.Kind {
	case OutputProbabilities, OutputLogits:
		if err := checkClasses(at, o, 2); err != nil {
			return op, err
		}
		op.width = len(o.Classes)
		if o.Kind == OutputLogits && o.Activation != ActivationSoftmax && o.Activation != ActivationSigmoid {
			if o.Activation == "" {
				return op, invalid("%s.activation: empty for logits output %q (softmax|sigmoid)", at, o.Tensor)
			}
			return op, invalid("%s.activation: unknown %q for logits output %q (softmax|sigmoid)", at, o.Activation, o.Tensor)
		}
	case OutputZipMap:
		if len(o.Classes) > 0 {
			if err := checkClasses(at, o, 2); err != nil {
				return op, err
			}
			op.width = len(o.Classes)
		}
	case OutputLabel:
		if len(o.Classes) > 0 {
			if err := checkClasses(at, o, 1); err != nil {
				return op, err
			}
		}
		op.width = 1
	case OutputScore, OutputVector:
		if len(o.Classes) > 0 {
			return op, invalid("%s.classes: a %s output (%q) has no classes", at, o.Kind, o.Tensor)
		}
		if o.Kind == OutputScore {
			op.width = 1
		} else if w := o.Shape.eventWidth(p.noBatch); w > 0 {
			op.width = w
		}
	case "":
		return op, invalid("%s.kind: empty (probabilities|zipmap|label|logits|score|vector)", at)
	default:
		return op, invalid("%s.kind: unknown kind %q (probabilities|zipmap|label|logits|score|vector)", at, o.Kind)
	}
	return op, nil
}

func checkClasses(at string, o OutputSpec, least int) error {
	if len(o.Classes) < least {
		return invalid("%s.classes: %d classes for %s output %q, need at least %d", at, len(o.Classes), o.Kind, o.Tensor, least)
	}
	seen := make(map[string]int, len(o.Classes))
	for i, c := range o.Classes {
		if c == "" {
			return invalid("%s.classes[%d]: empty", at, i)
		}
		if j, dup := seen[c]; dup {
			return invalid("%s.classes[%d]: %q repeats %s.classes[%d]", at, i, c, at, j)
		}
		seen[c] = i
	}
	return nil
}

// layOut places each output whose width is known, and notes whether all
// are.
func (l *outLayout) layOut() {
	l.width, l.resolved = 0, true
	for i := range l.outs {
		o := &l.outs[i]
		o.off = l.width
		if o.width < 0 {
			l.resolved = false
			continue
		}
		l.width += o.width
	}
	l.classes = nil
	switch {
	case l.classifier >= 0:
		l.classes = l.outs[l.classifier].classes
	case l.label >= 0:
		l.classes = l.outs[l.label].classes
	}
	if l.classifier >= 0 && l.classes == nil {
		l.resolved = false
	}
}

// clone returns a copy that a loaded model can resolve.
func (l *outLayout) clone() *outLayout {
	c := *l
	c.outs = append([]outPlan(nil), l.outs...)
	return &c
}

// read reads one event's out row.
func (l *outLayout) read(row []float32) Result {
	r := Result{ClassIndex: -1}
	if !l.resolved {
		return r
	}
	label := -1
	var raw string
	if l.label >= 0 {
		o := &l.outs[l.label]
		v := row[o.off]
		if o.labelRaw {
			raw = strconv.FormatInt(int64(v), 10)
		} else {
			label = int(v)
		}
	}
	switch {
	case l.classifier >= 0:
		o := &l.outs[l.classifier]
		probs := row[o.off : o.off+o.width : o.off+o.width]
		best := label
		if best < 0 || best >= len(probs) {
			best = 0
			for i := 1; i < len(probs); i++ {
				if probs[i] > probs[best] {
					best = i
				}
			}
		}
		r.ClassIndex, r.Class, r.Scores = best, l.classes[best], probs
		r.Score = probs[best]
		if len(probs) == 2 {
			r.Score = probs[1]
		}
	case l.label >= 0:
		r.Class = raw
		if label >= 0 && label < len(l.classes) {
			r.ClassIndex, r.Class = label, l.classes[label]
		}
	case l.score >= 0:
		o := &l.outs[l.score]
		r.Scores = row[o.off : o.off+1 : o.off+1]
		r.Score = row[o.off]
	}
	return r
}

// appendNamed appends the outputs carried by name to dst.
func (l *outLayout) appendNamed(dst []NamedOutput, row []float32) []NamedOutput {
	if !l.resolved {
		return dst
	}
	for _, i := range l.named {
		o := &l.outs[i]
		dst = append(dst, NamedOutput{Name: o.tensor, Values: row[o.off : o.off+o.width : o.off+o.width]})
	}
	return dst
}

// ReadOutput reads one event's output row, row[:s.OutWidth()] of what
// Model.Infer returned. It reads only what the signature alone says: a
// ZipMap without declared classes, or a vector without a declared shape,
// needs Model.ReadOutput. It panics if row is shorter than OutWidth. It
// does not allocate (but for the class of an int64 label without classes)
// and is safe for concurrent use.
func (s *Signature) ReadOutput(row []float32) Result {
	if s.plan == nil { // not validated: lay the outputs out now
		l, err := planOutputs(&mapPlan{outputSpecs: s.outputs(), batch: -1, noBatch: s.Batch == BatchNone}, func(int) string { return "output" })
		if err != nil {
			return Result{ClassIndex: -1}
		}
		return l.read(row)
	}
	return s.plan.out.read(row)
}

// Classes is the class names of the signature's classifier (or label)
// output, in the order of Result.Scores; nil when it does not classify or
// when only the model knows them (use Model.Classes). It is safe for
// concurrent use.
func (s *Signature) Classes() []string {
	if s.plan == nil {
		return s.Output.Classes
	}
	return s.plan.out.classes
}
