package oip

import (
	"github.com/sluice-ml/sluice/inference"
)

// Names of the outputs an infer response can carry besides the model's
// named outputs (vectors), which keep their tensor's name.
const (
	outProbabilities  = "probabilities"
	outPredictedClass = "predicted_class"
	outScore          = "score"
)

// served is what the protocol tells of the model now serving.
type served struct {
	name, version string
	sig           *inference.Signature
	classes       []string // the model's classes (a ZipMap's keys included)
	named         []inference.NamedOutput
	b             Backend // the route serving it
}

// servedModel describes m (nil when none serves).
func servedModel(m *inference.Model) *served {
	if m == nil {
		return nil
	}
	return &served{name: m.Name(), version: m.Version(), sig: m.Signature(), classes: m.Classes(),
		named: m.AppendNamed(nil, make([]float32, m.OutWidth()))}
}

// outputNames lists the outputs of the model, in the order responses carry
// them: the class probabilities and the predicted class of a classifier
// (the predicted class alone for a label), the score of a score model, and
// every output carried by name.
func (s *served) outputNames() []string {
	var out []string
	hasScore := false
	for _, o := range s.sig.OutputSpecs() {
		hasScore = hasScore || o.Kind == inference.OutputScore
	}
	switch {
	case len(s.classes) > 0 && s.classifies():
		out = append(out, outProbabilities, outPredictedClass)
	case len(s.classes) > 0 || s.labels():
		out = append(out, outPredictedClass)
	case hasScore:
		out = append(out, outScore)
	}
	for _, n := range s.named {
		out = append(out, n.Name)
	}
	return out
}

func (s *served) classifies() bool {
	for _, o := range s.sig.OutputSpecs() {
		switch o.Kind {
		case inference.OutputProbabilities, inference.OutputZipMap, inference.OutputLogits:
			return true
		}
	}
	return false
}

func (s *served) labels() bool {
	for _, o := range s.sig.OutputSpecs() {
		if o.Kind == inference.OutputLabel {
			return true
		}
	}
	return false
}

// metadata describes the model now serving.
func (s *served) metadata() modelMetadata {
	md := modelMetadata{Name: s.name, Versions: []string{s.version}, Platform: "onnxruntime"}
	for _, f := range fields(s.sig) {
		md.Inputs = append(md.Inputs, tensorMeta{Name: f.name, Datatype: f.datatype(), Shape: f.shape()})
	}
	for _, o := range s.outputNames() {
		switch o {
		case outProbabilities:
			md.Outputs = append(md.Outputs, tensorMeta{Name: o, Datatype: typeFP32, Shape: []int64{-1, int64(len(s.classes))}})
		case outPredictedClass:
			md.Outputs = append(md.Outputs, tensorMeta{Name: o, Datatype: typeBytes, Shape: []int64{-1}})
		case outScore:
			md.Outputs = append(md.Outputs, tensorMeta{Name: o, Datatype: typeFP32, Shape: []int64{-1}})
		default:
			md.Outputs = append(md.Outputs, tensorMeta{Name: o, Datatype: typeFP32, Shape: []int64{-1, int64(s.width(o))}})
		}
	}
	return md
}

// width is the number of values a named output has per row.
func (s *served) width(name string) int {
	for _, n := range s.named {
		if n.Name == name {
			return len(n.Values)
		}
	}
	return 0
}
