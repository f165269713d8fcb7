package inference

import (
	"fmt"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// checkModelIO compares the model's declared input and output with the
// signature and returns the rank of the output tensor (1 or 2).
func checkModelIO(onnx []byte, sig *Signature) (outRank int, err error) {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(onnx)
	if err != nil {
		return 0, fmt.Errorf("reading model inputs and outputs: %w", err)
	}
	in, ok := findInfo(ins, sig.Input.Tensor)
	if !ok {
		return 0, fmt.Errorf("model inputs are %s, signature input.tensor is %q", infoNames(ins), sig.Input.Tensor)
	}
	if len(ins) != 1 {
		return 0, fmt.Errorf("model inputs are %s, signature feeds only input.tensor %q", infoNames(ins), sig.Input.Tensor)
	}
	w := int64(sig.Width())
	if !isFloat(in) || len(in.Dimensions) != 2 || in.Dimensions[0] >= 0 || !dimFits(in.Dimensions[1], w) {
		return 0, fmt.Errorf("model input %s, signature input.tensor %q needs float32 [N %d] (%d columns)",
			describe(in), sig.Input.Tensor, w, len(sig.Input.Columns))
	}
	out, ok := findInfo(outs, sig.Output.Tensor)
	if !ok {
		return 0, fmt.Errorf("model outputs are %s, signature output.tensor is %q", infoNames(outs), sig.Output.Tensor)
	}
	ow := int64(sig.OutWidth())
	d := out.Dimensions
	fits := isFloat(out) && len(d) >= 1 && d[0] < 0
	switch {
	case !fits:
	case len(d) == 2:
		fits = dimFits(d[1], ow)
	case len(d) == 1:
		fits = sig.Output.Kind == OutputScore
	default:
		fits = false
	}
	if !fits {
		want := fmt.Sprintf("float32 [N %d]", ow)
		if sig.Output.Kind == OutputScore {
			want = "float32 [N] or [N 1]"
		}
		return 0, fmt.Errorf("model output %s, signature output.tensor %q (%s) needs %s",
			describe(out), sig.Output.Tensor, sig.Output.Kind, want)
	}
	return len(d), nil
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

func isFloat(i ort.InputOutputInfo) bool {
	return i.OrtValueType == ort.ONNXTypeTensor && i.DataType == ort.TensorElementDataTypeFloat
}

// dimFits accepts a dimension that equals want or is symbolic (negative).
func dimFits(d, want int64) bool { return d < 0 || d == want }

// describe writes an input or output as `"name" is float32 [N 26]`; a
// batch dimension that is not symbolic is called out.
func describe(i ort.InputOutputInfo) string {
	if i.OrtValueType != ort.ONNXTypeTensor {
		return fmt.Sprintf("%q is a %s", i.Name, i.OrtValueType)
	}
	dims := make([]string, len(i.Dimensions))
	for k, d := range i.Dimensions {
		dims[k] = fmt.Sprint(d)
		if d < 0 {
			dims[k] = "N"
		}
	}
	s := fmt.Sprintf("%q is %s [%s]", i.Name, elemName(i.DataType), strings.Join(dims, " "))
	if len(i.Dimensions) > 0 && i.Dimensions[0] >= 0 {
		s += " (its batch dimension must be symbolic)"
	}
	return s
}

// elemName turns ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT into float32.
func elemName(t ort.TensorElementDataType) string {
	n := strings.ToLower(strings.TrimPrefix(t.String(), "ONNX_TENSOR_ELEMENT_DATA_TYPE_"))
	switch n {
	case "float":
		return "float32"
	case "double":
		return "float64"
	}
	return n
}
