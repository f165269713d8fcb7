package training

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/sluice-ml/sluice/inference"
)

// Files WriteModelDir writes.
const (
	ModelFile     = "model.onnx"
	SignatureFile = "signature.yaml"
)

// WriteModelDir writes m as dir/model.onnx (input and output tensors named
// by sig) and sig as dir/signature.yaml, creating dir if needed. Each file
// is written to a temporary name and renamed, so a reader never sees half a
// file. It is safe for concurrent use with different dirs.
func WriteModelDir(dir string, m *MLP, sig *inference.Signature) error {
	if m.In() != sig.Width() || m.Out() != sig.OutWidth() {
		return fmt.Errorf("retrain: model maps %d → %d columns, signature %d → %d",
			m.In(), m.Out(), sig.Width(), sig.OutWidth())
	}
	model, err := WriteONNX(m, sig.Input.Tensor, sig.Output.Tensor)
	if err != nil {
		return err
	}
	spec, err := yaml.Marshal(sig)
	if err != nil {
		return fmt.Errorf("encoding signature: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating model dir: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, ModelFile), model); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, SignatureFile), spec)
}

func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
