// Command sluice is the streaming model server: one binary with
// subcommands for the dev stack, production workers, the demo, and tools to
// publish and read events.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/sluice-ml/sluice/security"
)

const usage = `sluice — a streaming model server for Kafka

Usage:
  sluice dev      [flags]   run the whole stack on embedded defaults
  sluice run      [flags]   run a production worker (--config sluice.yaml)
  sluice demo     [flags]   run the loop end to end and print a summary
  sluice produce  [flags]   publish synthetic demo events, or your own (--json FILE --schema FILE.avsc)
  sluice tail     [flags] TOPIC   print decoded records of a topic as JSON lines
  sluice topics create TOPIC...   create topics (a worker's output and dead-letter topics)
  sluice config   [flags]   print every configuration key, its value and env var
  sluice bench    [flags]   measure raw ONNX Runtime, passthrough and the pipeline side by side
  sluice soak     [flags]   run sluice dev under a steady labelled load and check memory stays flat
  sluice profile  [flags]   build a drift reference profile from training data (CSV or Avro)
  sluice models   ...       draft signatures; list, show, register, promote and roll back model versions
  sluice retrain  [flags]   answer retrain requests with new versions; measure live quality from labels
  sluice retrain export --request ID --out FILE   write a request's labelled rows (Avro container file)

Run 'sluice COMMAND -h' for a command's flags.
`

var commands = map[string]func(ctx context.Context, args []string, log *slog.Logger) error{
	"dev":     cmdDev,
	"run":     cmdRun,
	"demo":    cmdDemo,
	"produce": cmdProduce,
	"tail":    cmdTail,
	"topics":  cmdTopics,
	"config":  cmdConfig,
	"bench":   cmdBench,
	"soak":    cmdSoak,
	"profile": cmdProfile,
	"models":  cmdModels,
	"retrain": cmdRetrain,
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "sluice:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Print(usage)
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// Secrets in SLUICE_* variables and in any URL never reach the log or
	// the final error; commands that load a config add its secrets.
	red := security.RedactorFromEnv(os.Environ())
	log := red.Logger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	slog.SetDefault(log)
	err := cmd(ctx, args[1:], log)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return red.Error(err)
}
