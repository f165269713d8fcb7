package bench

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"testing"

	"github.com/sluice-ml/sluice/inference"
)

func TestExpProfile(t *testing.T) {
	if os.Getenv("EXPP") == "" {
		t.Skip()
	}
	ctx := context.Background()
	lib, _ := inference.FindLibrary()
	inference.InitRuntime(lib)
	m, _ := demoModel()
	im, err := inference.LoadModel("x", "1", m.onnx, m.sig, inference.SessionConfig{Provider: "cpu", IntraOpThreads: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := newEnv(ctx, m, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer e.stop()
	batch := inference.BatchConfig{}.WithDefaults()
	if err := e.preload(ctx, m, 300000); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create("/tmp/pipe.prof")
	pprof.StartCPUProfile(f)
	r, err := pipelineRate(ctx, e, im, batch, 300000, 8192)
	pprof.StopCPUProfile()
	fmt.Println("pipeline rate", r, err)
	f2, _ := os.Create("/tmp/pass.prof")
	pprof.StartCPUProfile(f2)
	r, err = passthrough(ctx, e, 300000, 8192)
	pprof.StopCPUProfile()
	fmt.Println("passthrough rate", r, err)
}
