package inference

import (
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// TestOrtAPIPositions checks the positions epdevice.go calls the C API by
// against the header of the onnxruntime_go module this build uses: the
// members of struct OrtApi, in order, each a function pointer.
func TestOrtAPIPositions(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/yalue/onnxruntime_go").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	header, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "onnxruntime_c_api.h"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(header)
	start := strings.Index(src, "struct OrtApi {")
	end := start + strings.Index(src[start:], "\n};")
	if start < 0 || end < start {
		t.Fatal("no struct OrtApi in the header")
	}
	body := regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`).ReplaceAllString(src[start:end], "")
	member := regexp.MustCompile(`ORT_API2_STATUS\(\s*(\w+)|ORT_CLASS_RELEASE2?\(\s*(\w+)\s*\)|\(\s*ORT_API_CALL\s*\*\s*(\w+)\s*\)`)
	pos := map[string]int{}
	for i, m := range member.FindAllStringSubmatch(body, -1) {
		switch {
		case m[1] != "":
			pos[m[1]] = i
		case m[2] != "":
			pos["Release"+m[2]] = i
		default:
			pos[m[3]] = i
		}
	}
	want := map[string]int{
		"GetErrorMessage": 2,
		"CreateEnv":       3,
		"ReleaseStatus":   93,
		"GetEpDevices":    303,
		"SessionOptionsAppendExecutionProvider_V2": 304,
		"HardwareDevice_Type":                      307,
		"EpDevice_EpName":                          312,
		"EpDevice_Device":                          316,
	}
	for name, p := range want {
		got, ok := pos[name]
		if !ok || got != p {
			t.Errorf("OrtApi.%s is member %d (found: %v), epdevice.go calls %d", name, got, ok, p)
		}
	}
}

// TestEPDevicesListTheCPU: every ONNX Runtime build offers its CPU
// provider as a device.
func TestEPDevicesListTheCPU(t *testing.T) {
	needRuntime(t)
	devs, err := epDevices()
	if err != nil {
		t.Fatal(err)
	}
	var cpu bool
	for _, d := range devs {
		if d.ep == "CPUExecutionProvider" {
			cpu = true
			if d.gpu {
				t.Errorf("the CPU provider's device is a GPU: %+v", d)
			}
		}
	}
	if !cpu {
		t.Fatalf("no CPUExecutionProvider among %+v", devs)
	}
}

// TestAppendEPDeviceRunsASession adds the CPU provider's device the way the
// CUDA plugin's is added, then runs a session with those options: it must
// compute what the model computes. A wrong API position or options handle
// crashes or fails here.
func TestAppendEPDeviceRunsASession(t *testing.T) {
	needRuntime(t)
	devs, err := epDevices()
	if err != nil {
		t.Fatal(err)
	}
	var cpu *epDevice
	for i := range devs {
		if devs[i].ep == "CPUExecutionProvider" {
			cpu = &devs[i]
		}
	}
	if cpu == nil {
		t.Fatal("no CPU device")
	}
	o, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer o.Destroy()
	if err := appendEPDevice(o, *cpu, map[string]string{}); err != nil {
		t.Fatal(err)
	}
	g := testGemm()
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(g.encode(), []string{g.in}, []string{g.out}, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Destroy()
	x := []float32{0.5, -1, 2, 0.25, 3}
	in, err := ort.NewTensor(ort.NewShape(1, int64(len(x))), x)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	outputs := []ort.Value{nil}
	if err := s.Run([]ort.Value{in}, outputs); err != nil {
		t.Fatal(err)
	}
	defer outputs[0].Destroy()
	got := outputs[0].(*ort.Tensor[float32]).GetData()
	want := g.forward(x)
	if len(got) != len(want) {
		t.Fatalf("output %v, want %v", got, want)
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("output %v, want %v", got, want)
		}
	}
}

// gpuBuildPath is where scripts/fetch-onnxruntime-gpu.sh installs the GPU
// build's core library.
func gpuBuildPath() string {
	return filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(CachedLibraryPath()))), "onnxruntime-gpu", "1.29.0", "libonnxruntime.so")
}

// TestGPUBuildWithoutGPU runs the GPU build that
// scripts/fetch-onnxruntime-gpu.sh installs (its CUDA provider is a plugin
// library) in a fresh process: where its CUDA libraries cannot load, auto
// runs on the CPU with one log line naming what is missing, and cuda
// fails naming it. On a machine where they load it checks that CUDA
// computes what the model computes. Skipped where the build was not fetched
// (it is 400 MB of downloads; make test does not fetch it).
func TestGPUBuildWithoutGPU(t *testing.T) {
	if os.Getenv(helperEnv) != "gpu-build" {
		lib := gpuBuildPath()
		if !isFile(lib) {
			t.Skipf("no GPU build at %s (scripts/fetch-onnxruntime-gpu.sh installs it)", lib)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestGPUBuildWithoutGPU$", "-test.v")
		cmd.Env = append(os.Environ(), helperEnv+"=gpu-build", "ONNXRUNTIME_LIB="+lib)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "PASS") {
			t.Fatalf("helper process: %v\n%s", err, out)
		}
		t.Logf("%s", out)
		return
	}
	needRuntime(t)
	if v := RuntimeVersion(); v != "1.29.0" {
		t.Fatalf("RuntimeVersion() = %q, want the GPU build's 1.29.0", v)
	}
	var logs strings.Builder
	g := testGemm()
	model, err := LoadModel("m", "1", g.encode(), testSignature(g),
		SessionConfig{Provider: ProviderAuto, IntraOpThreads: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer model.Close()
	x := []float32{0.5, -1, 2, 0.25, 3}
	out, err := model.Infer(t.Context(), x, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := g.forward(x)
	for i := range want {
		if math.Abs(float64(out[i]-want[i])) > 1e-4 {
			t.Fatalf("%s output %v, want %v", model.Provider(), out, want)
		}
	}
	if model.Provider() == ProviderCUDA {
		t.Log("CUDA loaded and computed the model's outputs")
		return
	}
	line := strings.TrimSpace(logs.String())
	for _, w := range []string{"CUDA unavailable, running on CPU", "loading the CUDA provider library", "cannot open shared object file"} {
		if !strings.Contains(line, w) || strings.Count(line, "\n") != 0 {
			t.Errorf("fallback log %q\nwant one line containing %q", line, w)
		}
	}
	_, err = LoadModel("m", "1", g.encode(), testSignature(g), SessionConfig{Provider: ProviderCUDA, IntraOpThreads: 1}, nil)
	if err == nil || !strings.Contains(err.Error(), "loading the CUDA provider library") {
		t.Fatalf("provider cuda: err = %v, want the CUDA provider library's load error", err)
	}
	t.Logf("cuda: %v", err)
}
