package inference

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// helperEnv makes a re-executed test binary run one test in a fresh process.
const helperEnv = "SLUICE_INFERENCE_HELPER"

func touch(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not a library"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFindLibrary(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) (env map[string]string, want string)
		missing bool
	}{
		{"ONNXRUNTIME_LIB first", func(t *testing.T, dir string) (map[string]string, string) {
			lib := touch(t, filepath.Join(dir, "custom", "libonnxruntime.so"))
			touch(t, filepath.Join(dir, "cache", "onnxruntime", ORTVersion, "libonnxruntime.so.1"))
			return map[string]string{"ONNXRUNTIME_LIB": lib, "SLUICE_CACHE": filepath.Join(dir, "cache")}, lib
		}, false},
		{"ONNXRUNTIME_LIB names a missing file", func(t *testing.T, dir string) (map[string]string, string) {
			touch(t, filepath.Join(dir, "cache", "onnxruntime", ORTVersion, "libonnxruntime.so.1"))
			return map[string]string{"ONNXRUNTIME_LIB": filepath.Join(dir, "gone.so"), "SLUICE_CACHE": filepath.Join(dir, "cache")}, ""
		}, true},
		{"bare name is left to dlopen", func(t *testing.T, dir string) (map[string]string, string) {
			return map[string]string{"ONNXRUNTIME_LIB": "libonnxruntime.so.1"}, "libonnxruntime.so.1"
		}, false},
		{"SLUICE_CACHE", func(t *testing.T, dir string) (map[string]string, string) {
			lib := touch(t, filepath.Join(dir, "cache", "onnxruntime", ORTVersion, "libonnxruntime.so.1"))
			return map[string]string{"SLUICE_CACHE": filepath.Join(dir, "cache")}, lib
		}, false},
		{"XDG_CACHE_HOME", func(t *testing.T, dir string) (map[string]string, string) {
			lib := touch(t, filepath.Join(dir, "xdg", "sluice", "onnxruntime", ORTVersion, "libonnxruntime.so.1"))
			return map[string]string{"XDG_CACHE_HOME": filepath.Join(dir, "xdg")}, lib
		}, false},
		{"HOME", func(t *testing.T, dir string) (map[string]string, string) {
			lib := touch(t, filepath.Join(dir, "home", ".cache", "sluice", "onnxruntime", ORTVersion, "libonnxruntime.so.1"))
			return map[string]string{"HOME": filepath.Join(dir, "home")}, lib
		}, false},
		{"LD_LIBRARY_PATH", func(t *testing.T, dir string) (map[string]string, string) {
			lib := touch(t, filepath.Join(dir, "ld", "libonnxruntime.so"))
			return map[string]string{"LD_LIBRARY_PATH": filepath.Join(dir, "empty") + ":" + filepath.Join(dir, "ld")}, lib
		}, false},
		{"nowhere", func(t *testing.T, dir string) (map[string]string, string) {
			return nil, ""
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, k := range []string{"ONNXRUNTIME_LIB", "SLUICE_CACHE", "XDG_CACHE_HOME", "LD_LIBRARY_PATH"} {
				t.Setenv(k, "")
			}
			t.Setenv("HOME", filepath.Join(dir, "nohome"))
			saved := systemLibDirs
			systemLibDirs = []string{filepath.Join(dir, "system")}
			t.Cleanup(func() { systemLibDirs = saved })
			env, want := tt.setup(t, dir)
			for k, v := range env {
				t.Setenv(k, v)
			}
			got, err := FindLibrary()
			if tt.missing {
				if !errors.Is(err, ErrLibraryMissing) || !strings.Contains(err.Error(), "make ort") || !strings.Contains(err.Error(), "ONNXRUNTIME_LIB") {
					t.Fatalf("FindLibrary() = %q, %v; want ErrLibraryMissing naming the fix", got, err)
				}
				return
			}
			if err != nil || got != want {
				t.Fatalf("FindLibrary() = %q, %v; want %q", got, err, want)
			}
		})
	}
}

// TestInitRuntimeBrokenLibrary runs in a fresh process: the runtime can be
// loaded only once per process.
func TestInitRuntimeBrokenLibrary(t *testing.T) {
	if os.Getenv(helperEnv) != "broken" {
		good, err := FindLibrary()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestInitRuntimeBrokenLibrary$", "-test.v")
		cmd.Env = append(os.Environ(), helperEnv+"=broken", "ONNXRUNTIME_LIB="+good)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "PASS") {
			t.Fatalf("helper process: %v\n%s", err, out)
		}
		return
	}
	dir := t.TempDir()
	for _, path := range []string{touch(t, filepath.Join(dir, "libonnxruntime.so.1")), filepath.Join(dir, "missing.so"), ""} {
		err := InitRuntime(path)
		if !errors.Is(err, ErrLibraryMissing) {
			t.Fatalf("InitRuntime(%q) = %v, want ErrLibraryMissing", path, err)
		}
		if !strings.Contains(err.Error(), "run make ort or set ONNXRUNTIME_LIB") {
			t.Fatalf("InitRuntime(%q) = %v, want it to name the fix", path, err)
		}
	}
	if v := RuntimeVersion(); v != "" {
		t.Fatalf("RuntimeVersion() after failures = %q", v)
	}
	good := os.Getenv("ONNXRUNTIME_LIB")
	for range 2 {
		if err := InitRuntime(good); err != nil {
			t.Fatalf("InitRuntime(%q) after a failure: %v", good, err)
		}
	}
	if v := RuntimeVersion(); v != ORTVersion {
		t.Fatalf("RuntimeVersion() = %q, want %q", v, ORTVersion)
	}
}

func TestInitRuntimeTwice(t *testing.T) {
	needRuntime(t)
	p, _ := FindLibrary()
	if err := InitRuntime(p); err != nil {
		t.Fatalf("second InitRuntime(%q) = %v", p, err)
	}
	if err := InitRuntime(p + ".other"); err == nil {
		t.Fatal("InitRuntime with another path succeeded")
	}
}
