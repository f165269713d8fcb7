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
// anything. It also checks that it looks for the GPU build where
// scripts/fetch-onnxruntime-gpu.sh installs it.
func TestBenchGPUScript(t *testing.T) {
	script := string(readRepoFile(t, benchGPUScript))
	m := regexp.MustCompile(`(?m)^version=([0-9.]+)$`).FindStringSubmatch(string(readRepoFile(t, fetchGPUScript)))
	if m == nil || !strings.Contains(script, "onnxruntime-gpu/"+m[1]+"/libonnxruntime.so") {
		t.Errorf("%s does not look for the build %s installs (version %v)", benchGPUScript, fetchGPUScript, m)
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

// TestBenchGPUFindsCUDALibraries runs the script's --check on a machine
// that has a GPU (a stand-in nvidia-smi), a GPU build (stand-in files) and
// CUDA libraries in NVIDIA's Python packages (stand-in files in a
// namespace package on PYTHONPATH): it must put those folders on
// LD_LIBRARY_PATH and name exactly the libraries that are missing.
func TestBenchGPUFindsCUDALibraries(t *testing.T) {
	root, err := filepath.Abs(filepath.Join(repoRoot, benchGPUScript))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	write := func(path, body string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(bin, "nvidia-smi"), "#!/bin/sh\necho 'GPU 0: Fake (UUID: GPU-0)'\n", 0o755)
	build := t.TempDir()
	for _, f := range []string{"libonnxruntime.so", "libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"} {
		write(filepath.Join(build, f), "", 0o644)
	}
	site := t.TempDir()
	pkgs := map[string][]string{
		"cuda_runtime": {"libcudart.so.13"},
		"cublas":       {"libcublas.so.13", "libcublasLt.so.13"},
		"curand":       {"libcurand.so.10"},
	}
	for pkg, libs := range pkgs {
		for _, l := range libs {
			write(filepath.Join(site, "nvidia", pkg, "lib", l), "", 0o644)
		}
	}
	run := func(t *testing.T, ldPath string) (string, int) {
		t.Helper()
		cmd := exec.Command("bash", root, "--check")
		cmd.Dir = t.TempDir()
		cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
			"PYTHONPATH=" + site, "ONNXRUNTIME_LIB=" + filepath.Join(build, "libonnxruntime.so"), "LD_LIBRARY_PATH=" + ldPath}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return string(out), 0
		case errors.As(err, &ee):
			return string(out), ee.ExitCode()
		}
		t.Fatal(err)
		return "", 0
	}
	for pkg := range pkgs {
		want := filepath.Join(site, "nvidia", pkg, "lib")
		out, _ := run(t, "")
		if !strings.Contains(out, want) {
			t.Errorf("LD_LIBRARY_PATH lacks %s:\n%s", want, out)
		}
	}
	// cuDNN is not there, nor (where ldconfig has no NVIDIA driver) libcuda.
	out, code := run(t, "")
	if code != 2 || !strings.Contains(out, "missing CUDA libraries") || !strings.Contains(out, "libcudnn.so.9") {
		t.Fatalf("exit %d, want 2 naming libcudnn.so.9:\n%s", code, out)
	}
	for _, found := range []string{"libcudart.so.13", "libcublasLt.so.13", "libcurand.so.10"} {
		if strings.Contains(out[strings.Index(out, "missing CUDA libraries"):], found) {
			t.Errorf("%s is reported missing although it is there:\n%s", found, out)
		}
	}
	// With cuDNN and the driver's library on LD_LIBRARY_PATH, all is found.
	extra := t.TempDir()
	write(filepath.Join(extra, "libcudnn.so.9"), "", 0o644)
	write(filepath.Join(extra, "libcuda.so.1"), "", 0o644)
	out, code = run(t, extra)
	if code != 0 || !strings.Contains(out, "CUDA libraries found") {
		t.Fatalf("exit %d, want 0 and every library found:\n%s", code, out)
	}
}

// TestFetchGPUBuildVerifies gives scripts/fetch-onnxruntime-gpu.sh files by
// hand (--from): what is missing is named, a file whose sha256 is not the
// pinned one is refused, and nothing is installed either way.
func TestFetchGPUBuildVerifies(t *testing.T) {
	root, err := filepath.Abs(filepath.Join(repoRoot, fetchGPUScript))
	if err != nil {
		t.Fatal(err)
	}
	tampered := t.TempDir()
	if err := os.WriteFile(filepath.Join(tampered, "libonnxruntime.so"), []byte("not the pinned library"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from string
		want       []string
	}{
		{"nothing given", t.TempDir(), []string{"has neither libonnxruntime.so nor com.github.asus4.onnxruntime-0.4.9.tgz"}},
		{"a tampered file", tampered, []string{"sha256 mismatch for libonnxruntime.so", "want 5715f06d8992ca8eeeddcce43df3a7d38f97d537052126f558e912cb312460ca", "refusing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			cmd := exec.Command("bash", root, "--from", tt.from)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "SLUICE_CACHE=" + cache}
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit %v, want 1:\n%s", err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if entries, _ := os.ReadDir(cache); len(entries) != 0 {
				t.Errorf("something was installed in %s: %v", cache, entries)
			}
		})
	}
}
