package inference

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ORTVersion is the ONNX Runtime release that scripts/fetch-onnxruntime.sh
// pins and FindLibrary looks for in the cache.
const ORTVersion = "1.30.0"

// ErrLibraryMissing is wrapped by FindLibrary and InitRuntime when the ONNX
// Runtime shared library cannot be found or loaded.
var ErrLibraryMissing = errors.New("inference: ONNX Runtime library missing or unusable (run make ort or set ONNXRUNTIME_LIB)")

// libNames are the file names FindLibrary looks for in system directories.
var libNames = []string{"libonnxruntime.so.1", "libonnxruntime.so"}

// systemLibDirs are searched after LD_LIBRARY_PATH.
var systemLibDirs = []string{
	"/usr/local/lib", "/usr/local/lib64", "/usr/lib/x86_64-linux-gnu",
	"/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib64", "/lib",
}

// CachedLibraryPath is where scripts/fetch-onnxruntime.sh installs the
// library: ${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}/onnxruntime/<version>/libonnxruntime.so.1.
// It is safe for concurrent use.
func CachedLibraryPath() string {
	root := os.Getenv("SLUICE_CACHE")
	if root == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache")
		}
		root = filepath.Join(cache, "sluice")
	}
	return filepath.Join(root, "onnxruntime", ORTVersion, "libonnxruntime.so.1")
}

// FindLibrary returns the path of the ONNX Runtime shared library: the file
// ONNXRUNTIME_LIB names, else the one the fetch script cached, else one found
// by name in LD_LIBRARY_PATH and the system library directories. A bare
// file name in ONNXRUNTIME_LIB is returned as is, for dlopen to search. It
// does not load the library. Errors wrap ErrLibraryMissing. It is safe for concurrent use.
func FindLibrary() (string, error) {
	if p := os.Getenv("ONNXRUNTIME_LIB"); p != "" {
		if strings.ContainsRune(p, '/') && !isFile(p) {
			return "", fmt.Errorf("%w: ONNXRUNTIME_LIB=%s: no such file", ErrLibraryMissing, p)
		}
		return p, nil
	}
	cached := CachedLibraryPath()
	if isFile(cached) {
		return cached, nil
	}
	dirs := filepath.SplitList(os.Getenv("LD_LIBRARY_PATH"))
	dirs = append(dirs, systemLibDirs...)
	for _, d := range dirs {
		if d == "" {
			continue
		}
		for _, n := range libNames {
			if p := filepath.Join(d, n); isFile(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%w: not at %s nor in LD_LIBRARY_PATH or %s",
		ErrLibraryMissing, cached, strings.Join(systemLibDirs, ":"))
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

var runtimeState struct {
	sync.Mutex
	path string // set once initialized
}

// InitRuntime loads the ONNX Runtime library at libPath and creates the
// process-wide environment. Calling it again with the same path is a no-op;
// with another path it is an error (one library per process). A library
// that is missing or does not load yields an error wrapping
// ErrLibraryMissing. It is safe for concurrent use.
func InitRuntime(libPath string) error {
	runtimeState.Lock()
	defer runtimeState.Unlock()
	if runtimeState.path != "" {
		if runtimeState.path != libPath {
			return fmt.Errorf("inference: runtime already initialized from %s, cannot switch to %s", runtimeState.path, libPath)
		}
		return nil
	}
	if libPath == "" {
		return fmt.Errorf("%w: empty library path", ErrLibraryMissing)
	}
	// A bare name is left to dlopen's own search.
	if strings.ContainsRune(libPath, '/') && !isFile(libPath) {
		return fmt.Errorf("%w: %s: no such file", ErrLibraryMissing, libPath)
	}
	ort.SetSharedLibraryPath(libPath)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("%w: loading %s: %v", ErrLibraryMissing, libPath, err)
	}
	runtimeState.path = libPath
	return nil
}

// ensureRuntime initializes the runtime from FindLibrary when no one has
// called InitRuntime yet.
func ensureRuntime() error {
	runtimeState.Lock()
	done := runtimeState.path != ""
	runtimeState.Unlock()
	if done {
		return nil
	}
	p, err := FindLibrary()
	if err != nil {
		return err
	}
	return InitRuntime(p)
}

// RuntimeVersion is the version string of the loaded ONNX Runtime, or ""
// before InitRuntime. It is safe for concurrent use.
func RuntimeVersion() string {
	runtimeState.Lock()
	defer runtimeState.Unlock()
	if runtimeState.path == "" {
		return ""
	}
	return ort.GetVersion()
}

// Load finds the ONNX Runtime library (FindLibrary) and initialises it
// (InitRuntime): what every command that scores does first. Calling it
// again is a no-op. It is safe for concurrent use.
func Load() error {
	lib, err := FindLibrary()
	if err != nil {
		return err
	}
	return InitRuntime(lib)
}
