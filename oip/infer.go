package oip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/pipeline"
)

// infer answers POST /v2/models/{name}/infer.
func (s *Server) infer(w http.ResponseWriter, r *http.Request) {
	m := s.model(w, r)
	if m == nil {
		return
	}
	name := m.name
	if r.Header.Get("Inference-Header-Content-Length") != "" {
		writeError(w, http.StatusBadRequest, "the binary tensor data extension is not supported: send the tensors as JSON")
		return
	}
	if !m.b.Ready() {
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("model %q is not ready: the worker has not joined its consumer group", name))
		return
	}
	resp, err := s.run(w, r, m)
	if err != nil {
		writeError(w, status(err), err.Error())
		return
	}
	if resp.ModelName == "" {
		resp.ModelName, resp.ModelVersion = m.name, m.version
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) run(w http.ResponseWriter, r *http.Request, m *served) (*inferResponse, error) {
	var req inferRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestBytes))
	if err := dec.Decode(&req); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, fmt.Errorf("request body over %d bytes: %w", mb.Limit, err)
		}
		return nil, badRequest("decoding the request: %v", err)
	}
	outputs := m.outputNames()
	if len(req.Outputs) > 0 {
		want := make([]string, 0, len(req.Outputs))
		for _, o := range req.Outputs {
			if !slices.Contains(m.outputNames(), o.Name) {
				return nil, badRequest("unknown output %q; the model's outputs are %v", o.Name, m.outputNames())
			}
			want = append(want, o.Name)
		}
		outputs = want
	}
	recs, err := records(m.sig, req.Inputs)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	outs, err := m.b.Predict(ctx, recs)
	if err != nil {
		return nil, predictError(err)
	}
	resp := &inferResponse{ID: req.ID, Outputs: make([]outputTensor, 0, len(outputs))}
	if len(outs) > 0 {
		resp.ModelName, resp.ModelVersion = outs[0].Model, outs[0].Version
	}
	for _, o := range outputs {
		resp.Outputs = append(resp.Outputs, output(o, m, outs))
	}
	return resp, nil
}

// predictError names the input and row of a record the model refused.
func predictError(err error) error {
	var re *pipeline.RecordError
	if !errors.As(err, &re) {
		return err
	}
	var me *inference.MapError
	if errors.As(re.Err, &me) {
		return badRequest("input %q, row %d: %s: %s", me.Field, re.Index, me.Class, me.Detail)
	}
	return badRequest("row %d: %v", re.Index, re.Err)
}

// output builds one output tensor from the scored rows.
func output(name string, m *served, outs []pipeline.Output) outputTensor {
	n := len(outs)
	switch name {
	case outProbabilities:
		c := len(m.classes)
		data := make([]float32, 0, n*c)
		for _, o := range outs {
			data = append(data, o.Scores...)
		}
		return outputTensor{Name: name, Shape: []int{n, c}, Datatype: typeFP32, Data: data}
	case outPredictedClass:
		data := make([]string, n)
		for i, o := range outs {
			data[i] = o.Class
		}
		return outputTensor{Name: name, Shape: []int{n}, Datatype: typeBytes, Data: data}
	case outScore:
		data := make([]float32, n)
		for i, o := range outs {
			data[i] = o.Score
		}
		return outputTensor{Name: name, Shape: []int{n}, Datatype: typeFP32, Data: data}
	}
	k := m.width(name)
	data := make([]float32, 0, n*k)
	for _, o := range outs {
		for _, named := range o.Named {
			if named.Name == name {
				data = append(data, named.Values...)
			}
		}
	}
	return outputTensor{Name: name, Shape: []int{n, k}, Datatype: typeFP32, Data: data}
}
