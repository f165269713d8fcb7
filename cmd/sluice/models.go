package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/security"
)

const modelsUsage = `Usage: sluice models COMMAND [flags]

  init NAME --onnx FILE (--subject SUBJECT | --schema FILE.avsc)
                                     print a draft signature.yaml: the model's inputs
                                     filled from the record's fields, its outputs read by
                                     kind; each TODO line is a decision left to you
  list                               the registered models, their stages and what the
                                     workers serve
  show NAME                          one model's stages, versions and workers
  register NAME --onnx FILE [--signature FILE | --subject SUBJECT | --schema FILE.avsc]
                [--profile FILE] [--metrics JSON|@FILE]
                [--stage candidate|shadow|canary|production] [--percent N]
                                     check (ONNX Runtime, CPU) and store a new version;
                                     without --signature, the draft of 'init' when it
                                     leaves nothing open
  promote NAME VERSION [--stage production|canary|shadow|archived] [--percent N]
                                     move a version to a stage (default production)
  rollback NAME                      production goes back to the version before

Every command but init needs the Redis that holds the registry: --redis-url
or SLUICE_REDIS_URL (redis://[user:password@]host:port/db, rediss:// for TLS).
--subject reads the subject's latest schema from the schema registry at
--registry-url or SLUICE_REGISTRY_URL. 'sluice dev' prints both URLs.
`

// cmdModels is `sluice models`: the model registry from the command line.
func cmdModels(ctx context.Context, args []string, log *slog.Logger) error {
	return runModels(ctx, args, os.Stdout, log)
}

// runModels runs one models subcommand, printing to out.
func runModels(ctx context.Context, args []string, out io.Writer, log *slog.Logger) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(out, modelsUsage)
		if len(args) == 0 {
			return errors.New("models: name a command")
		}
		return nil
	}
	sub := map[string]func(context.Context, *registry.Registry, *modelsFlags, io.Writer) error{
		"list": modelsList, "show": modelsShow, "register": modelsRegister,
		"promote": modelsPromote, "rollback": modelsRollback,
	}[args[0]]
	if sub == nil && args[0] != "init" {
		return fmt.Errorf("models: unknown command %q (init, list, show, register, promote, rollback)", args[0])
	}
	fs := flag.NewFlagSet("models "+args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	f := &modelsFlags{}
	fs.StringVar(&f.redisURL, "redis-url", os.Getenv("SLUICE_REDIS_URL"), "Redis holding the registry (default $SLUICE_REDIS_URL)")
	fs.StringVar(&f.onnx, "onnx", "", "register: the model file, stored in Redis")
	fs.StringVar(&f.onnxURI, "onnx-uri", "", "register: file:///abs/path of a large model, stored by reference (sha256-checked)")
	fs.StringVar(&f.signature, "signature", "", "register: signature.yaml (without it, the draft of init from --subject or --schema)")
	fs.StringVar(&f.registryURL, "registry-url", os.Getenv("SLUICE_REGISTRY_URL"), "init, register: the schema registry --subject is read from (default $SLUICE_REGISTRY_URL)")
	fs.StringVar(&f.subject, "subject", "", "init, register: the input topic's subject (TOPIC-value); its latest schema is the record drafted from")
	fs.StringVar(&f.schema, "schema", "", "init, register: an Avro schema file (.avsc) to draft from, instead of --subject")
	fs.StringVar(&f.notFeatures, "not-features", "", "init, register: comma-separated fields that are not features (default event_id,entity_id,event_time)")
	fs.StringVar(&f.profile, "profile", "", "register: reference profile file (sluice profile), checked against the signature")
	fs.StringVar(&f.metrics, "metrics", "", `register: metrics, a JSON object such as '{"auc": 0.93}', or @FILE holding one`)
	fs.StringVar(&f.stage, "stage", "", "register: candidate (default) or a stage to promote to; promote: production (default), canary, shadow, archived")
	fs.Float64Var(&f.percent, "percent", 0, "canary: % of keys; shadow: % of events (default 10)")
	fs.StringVar(&f.reason, "reason", "", "a note carried by the model event")
	fs.Int64Var(&f.maxBytes, "max-model-bytes", registry.DefaultMaxModelBytes, "register: size cap")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	f.args = pos
	if args[0] == "init" {
		return modelsInit(ctx, f, out)
	}
	if f.redisURL == "" {
		return errors.New("models: no Redis: pass --redis-url or set SLUICE_REDIS_URL ('sluice dev' prints its Redis URL)")
	}
	rdb, err := security.NewRedis(config.Redis{URL: f.redisURL}, log)
	if err != nil {
		return fmt.Errorf("models: --redis-url: %w", err)
	}
	defer rdb.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		return fmt.Errorf("models: redis at %s: %w", rdb.Options().Addr, err)
	}
	reg := registry.New(rdb, registry.Config{MaxModelBytes: f.maxBytes}, registry.WithLogger(log))
	return sub(ctx, reg, f, out)
}

type modelsFlags struct {
	redisURL, onnx, onnxURI, signature, profile, metrics, stage, reason string
	registryURL, subject, schema, notFeatures                           string
	percent                                                             float64
	maxBytes                                                            int64
	args                                                                []string
}

// want checks the number of positional arguments.
func (f *modelsFlags) want(usage string, n int) error {
	if len(f.args) != n {
		return fmt.Errorf("usage: sluice models %s", usage)
	}
	return nil
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

func modelsRegister(ctx context.Context, reg *registry.Registry, f *modelsFlags, out io.Writer) error {
	if err := f.want("register NAME --onnx FILE --signature FILE", 1); err != nil {
		return err
	}
	if (f.onnx == "") == (f.onnxURI == "") {
		return errors.New("models register: give one of --onnx FILE or --onnx-uri file:///path")
	}
	req := registry.RegisterRequest{URI: f.onnxURI, Stage: registry.Stage(f.stage), Percent: f.percent, Reason: f.reason}
	var err error
	if f.onnx != "" {
		if req.ONNX, err = readCapped(f.onnx, f.maxBytes); err != nil {
			return err
		}
	}
	if f.signature != "" {
		if req.Signature, err = os.ReadFile(f.signature); err != nil {
			return fmt.Errorf("models register: %w", err)
		}
	} else if req.Signature, err = registerDraft(ctx, f, out); err != nil {
		return err
	}
	if f.profile != "" {
		if req.Profile, err = os.ReadFile(f.profile); err != nil {
			return fmt.Errorf("models register: %w", err)
		}
	}
	if f.metrics != "" {
		if req.Metrics, err = parseMetrics(f.metrics); err != nil {
			return fmt.Errorf("models register: %w", err)
		}
	}
	// The check loads the model with ONNX Runtime.
	if err := initRuntime(); err != nil {
		return fmt.Errorf("models register: checking the model: %w", err)
	}
	v, err := reg.Register(ctx, f.args[0], req)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "registered %s version %s (%s): %s, sha256 %s\n", v.Model, v.Version, v.Stage, humanBytes(v.Size), v.SHA256)
	return nil
}

// registerDraft is the signature of a register without --signature: the
// draft of models init, printed, when it leaves nothing open.
func registerDraft(ctx context.Context, f *modelsFlags, out io.Writer) ([]byte, error) {
	if f.subject == "" && f.schema == "" {
		return nil, errors.New("models register: give --signature FILE, or --subject SUBJECT (with --registry-url) or --schema FILE.avsc to use the signature 'sluice models init' drafts")
	}
	d, err := draftSignature(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("models register: drafting the signature: %w", err)
	}
	fmt.Fprintf(out, "the drafted signature:\n%s\n", d.YAML)
	if len(d.Open) > 0 {
		return nil, fmt.Errorf("models register: the drafted signature above leaves %s open (its TODO lines): save it (sluice models init %s ... > signature.yaml), decide them and pass --signature signature.yaml",
			plural(len(d.Open), "decision"), f.args[0])
	}
	return d.YAML, nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// readCapped reads a model file, refusing one over max bytes before
// reading it.
func readCapped(path string, max int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("models register: %w", err)
	}
	if st.Size() > max {
		return nil, fmt.Errorf("models register: %s: %w: %d bytes, the cap is %d (--max-model-bytes)", path, registry.ErrTooLarge, st.Size(), max)
	}
	return os.ReadFile(path)
}

func modelsPromote(ctx context.Context, reg *registry.Registry, f *modelsFlags, out io.Writer) error {
	if err := f.want("promote NAME VERSION [--stage production|canary|shadow|archived] [--percent N]", 2); err != nil {
		return err
	}
	stage := registry.StageProduction
	if f.stage != "" {
		stage = registry.Stage(f.stage)
	}
	ev, err := reg.Promote(ctx, f.args[0], f.args[1], stage, registry.PromoteOptions{Percent: f.percent, Reason: f.reason})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "promoted %s version %s to %s", ev.Model, ev.Version, ev.Stage)
	switch {
	case ev.Stage == registry.StageCanary:
		fmt.Fprintf(out, " serving %g%% of keys", math.Round(ev.Percent*100)/100)
	case ev.Stage == registry.StageShadow:
		fmt.Fprintf(out, " scoring %g%% of events", math.Round(ev.Percent*100)/100)
	}
	if ev.Previous != "" && ev.Previous != ev.Version {
		fmt.Fprintf(out, "; version %s archived", ev.Previous)
	}
	fmt.Fprintln(out)
	return nil
}

func modelsRollback(ctx context.Context, reg *registry.Registry, f *modelsFlags, out io.Writer) error {
	if err := f.want("rollback NAME", 1); err != nil {
		return err
	}
	ev, err := reg.Rollback(ctx, f.args[0], f.reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "rolled back %s: production is version %s again; version %s archived\n", ev.Model, ev.Version, ev.Previous)
	return nil
}
