package registry_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-ml/sluice/registry"
)

// TestFetchURI registers a model kept in a file and checks that Fetch
// reads it back and catches a changed or missing file.
func TestFetchURI(t *testing.T) {
	e := newEnv(t, registry.Config{})
	path := filepath.Join(t.TempDir(), "model.onnx")
	onnx := demoONNX(t, 1, 0)
	if err := os.WriteFile(path, onnx, 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := e.reg.Register(t.Context(), "fraud", registry.RegisterRequest{URI: "file://" + path, Signature: sigYAML(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := e.rdb.Exists(t.Context(), "sluice:models:{fraud}:v:1:onnx").Result(); n != 0 {
		t.Fatal("a model registered by URI was copied into Redis")
	}
	_, b, err := e.reg.Fetch(t.Context(), "fraud", v.Version)
	if err != nil || string(b) != string(onnx) {
		t.Fatalf("Fetch: %v (%d bytes)", err, len(b))
	}
	small := registry.New(e.rdb, registry.Config{MaxModelBytes: 100})
	if _, _, err := small.Fetch(t.Context(), "fraud", "1"); !errors.Is(err, registry.ErrTooLarge) {
		t.Fatalf("Fetch under a 100-byte cap: %v", err)
	}
	onnx[len(onnx)-1] ^= 0xff
	if err := os.WriteFile(path, onnx, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.reg.Fetch(t.Context(), "fraud", "1"); !errors.Is(err, registry.ErrChecksum) {
		t.Fatalf("Fetch of a changed file: %v", err)
	}
	os.Remove(path)
	if _, _, err := e.reg.Fetch(t.Context(), "fraud", "1"); !errors.Is(err, registry.ErrMissingBlob) {
		t.Fatalf("Fetch of a removed file: %v", err)
	}
	if _, _, err := e.reg.Fetch(t.Context(), "fraud", "2"); !errors.Is(err, registry.ErrUnknownVersion) {
		t.Fatalf("Fetch of version 2: %v", err)
	}
}
