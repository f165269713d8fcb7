package registry

import (
	"errors"
	"fmt"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/sluice-ml/sluice/inference"
)

// loadCheck loads onnx with sig on one CPU session (the load compares the
// model's inputs and outputs with the signature and runs a warm-up batch)
// and closes it again.
func loadCheck(name string, onnx []byte, sig *inference.Signature) error {
	m, err := inference.LoadModel(name, "new", onnx, sig,
		inference.SessionConfig{Provider: inference.ProviderCPU, IntraOpThreads: 1, Sessions: 1}, nil)
	if err != nil {
		return classifyLoad(onnx, err)
	}
	return m.Close()
}

// classifyLoad tells a model ONNX Runtime cannot read (ErrCorruptModel)
// from one that does not fit its signature (ErrSignatureMismatch). A
// missing runtime is neither and is returned as it is.
func classifyLoad(onnx []byte, err error) error {
	if errors.Is(err, inference.ErrLibraryMissing) {
		return err
	}
	if _, _, ierr := ort.GetInputOutputInfoWithONNXData(onnx); ierr != nil {
		return fmt.Errorf("%w: %v", ErrCorruptModel, err)
	}
	return fmt.Errorf("%w: %v", ErrSignatureMismatch, err)
}
