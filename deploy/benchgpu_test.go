package deploy_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const benchGPUScript = "scripts/bench-gpu.sh"

// TestBenchGPUScript runs the GPU benchmark script where it has nothing to
// measure: it must say why and exit 2, before building or running
// anything. It also checks that it pins the ONNX Runtime version the CPU
// fetch script pins.
func TestBenchGPUScript(t *testing.T) {
	script := string(readRepoFile(t, benchGPUScript))
	m := regexp.MustCompile(`(?m)^ORT_VERSION=([0-9.]+)$`).FindStringSubmatch(script)
	if version, _ := pinnedORT(t); m == nil || m[1] != version {
		t.Errorf("%s pins ONNX Runtime %v, %s pins %s", benchGPUScript, m, fetchORTScript, version)
	}
	root, err := filepath.Abs(filepath.Join(repoRoot, benchGPUScript))
	if err != nil {
		t.Fatal(err)
	}
	fake := func(t *testing.T, exit int) string {
		dir := t.TempDir()
		body := "#!/bin/sh\nexit " + strconv.Itoa(exit) + "\n"
		if exit == 0 {
			body = "#!/bin/sh\necho 'GPU 0: Fake (UUID: GPU-0)'\n"
		}
		if err := os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		name      string
		smiExit   int
		lib       string
		wantInErr string
	}{
		{"no GPU", 9, "", "no NVIDIA GPU"},
		{"no GPU build named", 0, "", "set ONNXRUNTIME_LIB"},
		{"a CPU build named", 0, "cpu", "is not a GPU build"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("bash", root)
			cmd.Dir = t.TempDir()
			env := []string{"PATH=" + fake(t, tt.smiExit) + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "OUT_DIR=" + t.TempDir()}
			if tt.lib == "cpu" {
				lib := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
				if err := os.WriteFile(lib, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				env = append(env, "ONNXRUNTIME_LIB="+lib)
			}
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want 2; output:\n%s", err, out)
			}
			if !strings.Contains(string(out), tt.wantInErr) {
				t.Fatalf("output lacks %q:\n%s", tt.wantInErr, out)
			}
		})
	}
}
