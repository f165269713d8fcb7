package oip

import (
	"github.com/sluice-ml/sluice/inference"
)

// Names of the outputs an infer response can carry.
const (
	outProbabilities  = "probabilities"
	outPredictedClass = "predicted_class"
	outScore          = "score"
)

// inputDatatype is the datatype metadata advertises for a column; requests
// may send any numeric datatype for numeric and array columns.
func inputDatatype(c *inference.Column) string {
	switch c.Kind {
	case inference.KindBoolean:
		return typeBool
	case inference.KindCategorical:
		return typeBytes
	case inference.KindArray:
		return typeFP32
	default:
		return typeFP64
	}
}

// inputShape is a column's shape with the batch dimension -1.
func inputShape(c *inference.Column) []int64 {
	if c.Kind == inference.KindArray {
		return []int64{-1, int64(c.Length)}
	}
	return []int64{-1}
}

// outputNames lists the outputs the signature's model gives, in the order
// responses carry them.
func outputNames(sig *inference.Signature) []string {
	if sig.Output.Kind == inference.OutputProbabilities {
		return []string{outProbabilities, outPredictedClass}
	}
	return []string{outScore}
}

// metadata describes a model version with signature sig.
func metadata(name, version string, sig *inference.Signature) modelMetadata {
	md := modelMetadata{Name: name, Versions: []string{version}, Platform: "onnxruntime"}
	for i := range sig.Input.Columns {
		c := &sig.Input.Columns[i]
		md.Inputs = append(md.Inputs, tensorMeta{Name: c.Field, Datatype: inputDatatype(c), Shape: inputShape(c)})
	}
	for _, o := range outputNames(sig) {
		switch o {
		case outProbabilities:
			md.Outputs = append(md.Outputs, tensorMeta{Name: o, Datatype: typeFP32, Shape: []int64{-1, int64(len(sig.Output.Classes))}})
		case outPredictedClass:
			md.Outputs = append(md.Outputs, tensorMeta{Name: o, Datatype: typeBytes, Shape: []int64{-1}})
		case outScore:
			md.Outputs = append(md.Outputs, tensorMeta{Name: o, Datatype: typeFP32, Shape: []int64{-1}})
		}
	}
	return md
}
