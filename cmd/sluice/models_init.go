package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
)

// modelsInit is `sluice models init`: it prints a draft signature.yaml
// for a model and the Avro record its events carry.
func modelsInit(ctx context.Context, f *modelsFlags, out io.Writer) error {
	if err := f.want("init NAME --onnx FILE --subject SUBJECT [--registry-url URL] | --schema FILE.avsc", 1); err != nil {
		return err
	}
	if f.onnx == "" && f.onnxURI == "" {
		return errors.New("models init: give --onnx FILE, the model to draft a signature for")
	}
	d, err := draftSignature(ctx, f)
	if err != nil {
		return fmt.Errorf("models init: %w", err)
	}
	_, err = out.Write(d.YAML)
	return err
}

// draftSignature drafts the signature of f.args[0] from the model file
// and the input schema the flags name.
func draftSignature(ctx context.Context, f *modelsFlags) (*registry.Draft, error) {
	if f.subject == "" && f.schema == "" {
		return nil, errors.New("name the input schema: --subject SUBJECT (the input topic's, TOPIC-value, at --registry-url) or --schema FILE.avsc")
	}
	path := f.onnx
	if path == "" {
		path = strings.TrimPrefix(f.onnxURI, "file://")
	}
	onnx, err := readCapped(path, f.maxBytes)
	if err != nil {
		return nil, err
	}
	schema, source, err := inputSchema(ctx, f)
	if err != nil {
		return nil, err
	}
	if err := initRuntime(); err != nil {
		return nil, err
	}
	opt := registry.DraftOptions{Model: f.args[0], ModelFile: filepath.Base(path), SchemaSource: source}
	if f.notFeatures != "" {
		opt.NotFeatures = strings.Split(f.notFeatures, ",")
	}
	return registry.DraftSignature(onnx, schema, opt)
}

// inputSchema reads the Avro schema the flags name: a file, or the latest
// version of a subject in the schema registry. It returns the schema and
// where it came from.
func inputSchema(ctx context.Context, f *modelsFlags) (schema, source string, err error) {
	if f.schema != "" {
		b, err := os.ReadFile(f.schema)
		if err != nil {
			return "", "", err
		}
		return string(b), filepath.Base(f.schema), nil
	}
	if f.registryURL == "" {
		return "", "", fmt.Errorf("--subject %s: no schema registry: pass --registry-url or set SLUICE_REGISTRY_URL ('sluice dev' prints its URL)", f.subject)
	}
	if err := (config.Registry{URL: f.registryURL}).Validate(); err != nil {
		return "", "", fmt.Errorf("--registry-url: %w", err)
	}
	v, err := schemas.NewClient(f.registryURL, nil).Version(ctx, f.subject, "latest")
	if errors.Is(err, schemas.ErrUnknownSchema) {
		return "", "", fmt.Errorf("subject %q is not registered at %s: register the input schema first (a Confluent serializer does on its first event; or POST it to /subjects/%s/versions), or give --schema FILE.avsc",
			f.subject, config.RedactURL(f.registryURL), f.subject)
	}
	if err != nil {
		return "", "", err
	}
	return v.Schema, fmt.Sprintf("subject %s, version %d", v.Subject, v.Version), nil
}

// initRuntime loads ONNX Runtime, which reads and checks models.
func initRuntime() error {
	lib, err := inference.FindLibrary()
	if err == nil {
		err = inference.InitRuntime(lib)
	}
	if err != nil {
		return fmt.Errorf("reading the model needs ONNX Runtime: %w", err)
	}
	return nil
}

// parseMetrics reads --metrics: a JSON object inline, or @FILE or a path
// of a file holding one.
func parseMetrics(arg string) (map[string]float64, error) {
	text := strings.TrimSpace(arg)
	if !strings.HasPrefix(text, "{") {
		b, err := os.ReadFile(strings.TrimPrefix(text, "@"))
		if err != nil {
			return nil, fmt.Errorf("--metrics: not a JSON object, nor a file: %w", err)
		}
		text = string(b)
	}
	var m map[string]float64
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return nil, fmt.Errorf("--metrics %s: want a JSON object of numbers, e.g. {\"auc\": 0.93}: %w", arg, err)
	}
	return m, nil
}
