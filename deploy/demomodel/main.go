// Command demomodel trains sluice's demo fraud model and writes it as a
// model directory (model.onnx, signature.yaml and the drift reference
// profile profile.json): the same files `sluice dev` writes on its first
// start. The Dockerfiles run it at build time so that an image can serve
// `sluice run`, drift monitoring included, without anything mounted; a
// real deployment mounts its own model directory at model.dir instead.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/sluice-ml/sluice/devstack"
)

func main() {
	dir := flag.String("dir", "models/fraud/1", "model directory to write")
	flag.Parse()
	if err := devstack.EnsureDemoModel(*dir, slog.New(slog.NewTextHandler(os.Stderr, nil))); err != nil {
		fmt.Fprintln(os.Stderr, "demomodel:", err)
		os.Exit(1)
	}
}
