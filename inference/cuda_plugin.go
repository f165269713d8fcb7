package inference

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// cudaPluginLibrary is ONNX Runtime's CUDA provider library. In the GPU
// build that scripts/fetch-onnxruntime-gpu.sh installs, the core library has
// no CUDA provider built in (its CUDA options call says "not enabled in this
// build"); the provider is this file beside it, a plugin library that
// exports CreateEpFactories and is registered with the environment.
const cudaPluginLibrary = "libonnxruntime_providers_cuda.so"

var cudaPlugin struct {
	once sync.Once
	err  error
}

// registerCUDAPlugin registers the CUDA provider library beside the loaded
// ONNX Runtime library, once per process. It fails, naming the missing
// file, where the CUDA and cuDNN libraries it links against are not on the
// library path.
func registerCUDAPlugin() error {
	cudaPlugin.once.Do(func() {
		lib := loadedLibrary()
		path := filepath.Join(filepath.Dir(lib), cudaPluginLibrary)
		if !isFile(path) {
			cudaPlugin.err = fmt.Errorf("%s has no CUDA provider built in and there is no %s beside it", lib, cudaPluginLibrary)
			return
		}
		if err := ort.RegisterExecutionProviderLibrary("CUDA", path); err != nil {
			cudaPlugin.err = fmt.Errorf("loading the CUDA provider library: %s", ortReason(err))
		}
	})
	return cudaPlugin.err
}

// appendCUDAPlugin adds the plugin CUDA provider on GPU cfg.DeviceID (in
// the order the provider lists its GPUs) to o.
func appendCUDAPlugin(o *ort.SessionOptions, cfg SessionConfig) error {
	if err := registerCUDAPlugin(); err != nil {
		return err
	}
	devs, err := epDevices()
	if err != nil {
		return err
	}
	var gpus []epDevice
	for _, d := range devs {
		if d.gpu && strings.Contains(strings.ToUpper(d.ep), "CUDA") {
			gpus = append(gpus, d)
		}
	}
	switch {
	case len(gpus) == 0:
		return fmt.Errorf("the CUDA provider found no GPU")
	case cfg.DeviceID >= len(gpus):
		return fmt.Errorf("device_id %d: the CUDA provider found %d GPU(s)", cfg.DeviceID, len(gpus))
	}
	opts := map[string]string{}
	if cfg.GPUMemLimitBytes > 0 {
		opts["gpu_mem_limit"] = strconv.FormatUint(cfg.GPUMemLimitBytes, 10)
	}
	return appendEPDevice(o, gpus[cfg.DeviceID], opts)
}
