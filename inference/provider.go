package inference

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// ErrProviderUnavailable is wrapped by LoadModel when provider "cuda" was
// asked for and the library or the machine cannot give it.
var ErrProviderUnavailable = errors.New("inference: execution provider unavailable")

// openSessions creates cfg.Sessions sessions on the provider cfg asks for
// and reports the provider they run on. With ProviderAuto a failed CUDA
// attempt falls back to the CPU and logs one line.
func openSessions(onnx []byte, sig *Signature, cfg SessionConfig) ([]*ort.DynamicAdvancedSession, Provider, error) {
	if cfg.Provider == ProviderCPU {
		s, err := createSessions(onnx, sig, cfg, false)
		return s, ProviderCPU, err
	}
	s, err := createSessions(onnx, sig, cfg, true)
	if err == nil {
		return s, ProviderCUDA, nil
	}
	why := ortReason(err)
	if cfg.Provider == ProviderCUDA {
		return nil, "", fmt.Errorf("%w: cuda (device %d): %s; CUDA is not usable with the ONNX Runtime library %s: "+
			"point ONNXRUNTIME_LIB at an ONNX Runtime GPU build (libonnxruntime_providers_cuda.so and "+
			"libonnxruntime_providers_shared.so beside it, CUDA and cuDNN installed), or set provider: auto or cpu",
			ErrProviderUnavailable, cfg.DeviceID, why, loadedLibrary())
	}
	cfg.Logger.Warn("inference: CUDA unavailable, running on CPU", "requested", string(cfg.Provider), "effective", string(ProviderCPU), "reason", why)
	s, err = createSessions(onnx, sig, cfg, false)
	return s, ProviderCPU, err
}

// createSessions makes cfg.Sessions sessions with the same options.
func createSessions(onnx []byte, sig *Signature, cfg SessionConfig, cuda bool) ([]*ort.DynamicAdvancedSession, error) {
	if cuda {
		// ONNX Runtime logs its own error when the CUDA provider does not
		// load; the caller reports it once instead.
		_ = ort.SetEnvironmentLogLevel(ort.LoggingLevelFatal)
		defer func() { _ = ort.SetEnvironmentLogLevel(ort.LoggingLevelError) }()
	}
	opts, err := sessionOptions(cfg, cuda)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	var in, out []string
	for _, ip := range sig.plan.ins {
		in = append(in, ip.tensor)
	}
	for _, o := range sig.plan.out.outs {
		out = append(out, o.tensor)
	}
	sessions := make([]*ort.DynamicAdvancedSession, 0, cfg.Sessions)
	for range cfg.Sessions {
		s, err := ort.NewDynamicAdvancedSessionWithONNXData(onnx, in, out, opts)
		if err != nil {
			for _, s := range sessions {
				_ = s.Destroy()
			}
			return nil, fmt.Errorf("creating session: %w", err)
		}
		sessions = append(sessions, s)
	}
	return sessions, nil
}

// sessionOptions builds the options of one session, with the GPU providers
// appended when cuda is set.
func sessionOptions(cfg SessionConfig, cuda bool) (*ort.SessionOptions, error) {
	o, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("creating session options: %w", err)
	}
	if err := configure(o, cfg, cuda); err != nil {
		_ = o.Destroy()
		return nil, err
	}
	return o, nil
}

func configure(o *ort.SessionOptions, cfg SessionConfig, cuda bool) error {
	if err := o.SetIntraOpNumThreads(cfg.IntraOpThreads); err != nil {
		return fmt.Errorf("setting intra-op threads: %w", err)
	}
	if err := o.SetInterOpNumThreads(1); err != nil {
		return fmt.Errorf("setting inter-op threads: %w", err)
	}
	if !cfg.Spin {
		// ONNX Runtime's pool threads spin between runs by default; in a
		// worker that shares its cores with decoding, encoding and the Kafka
		// client, the spinning steals the CPU those stages need.
		for _, key := range []string{"session.intra_op.allow_spinning", "session.inter_op.allow_spinning"} {
			if err := o.AddSessionConfigEntry(key, "0"); err != nil {
				return fmt.Errorf("setting %s: %w", key, err)
			}
		}
	}
	if !cuda {
		return nil
	}
	dev := strconv.Itoa(cfg.DeviceID)
	if cfg.TensorRT {
		t, err := ort.NewTensorRTProviderOptions()
		if err != nil {
			return fmt.Errorf("creating tensorrt options: %w", err)
		}
		defer t.Destroy()
		if err := t.Update(map[string]string{"device_id": dev}); err != nil {
			return fmt.Errorf("configuring tensorrt: %w", err)
		}
		if err := o.AppendExecutionProviderTensorRT(t); err != nil {
			return fmt.Errorf("adding tensorrt provider: %w", err)
		}
	}
	c, err := ort.NewCUDAProviderOptions()
	if err != nil {
		if strings.Contains(err.Error(), "not enabled in this build") {
			return appendCUDAPlugin(o, cfg)
		}
		return fmt.Errorf("creating cuda options: %w", err)
	}
	defer c.Destroy()
	kv := map[string]string{"device_id": dev}
	if cfg.GPUMemLimitBytes > 0 {
		kv["gpu_mem_limit"] = strconv.FormatUint(cfg.GPUMemLimitBytes, 10)
	}
	if err := c.Update(kv); err != nil {
		return fmt.Errorf("configuring cuda: %w", err)
	}
	if err := o.AppendExecutionProviderCUDA(c); err != nil {
		return fmt.Errorf("adding cuda provider: %w", err)
	}
	return nil
}

// ortReason shortens an ONNX Runtime error to what it says went wrong,
// without the source location it starts with.
func ortReason(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, "FAIL : "); i >= 0 {
		prefix := s[:strings.Index(s, ": ")+2]
		if strings.HasPrefix(prefix, "/") {
			prefix = ""
		}
		s = prefix + s[i+len("FAIL : "):]
	}
	return s
}

func loadedLibrary() string {
	runtimeState.Lock()
	defer runtimeState.Unlock()
	return runtimeState.path
}
