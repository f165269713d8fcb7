package oip

import "encoding/json"

// Tensor datatypes of the protocol that sluice reads or writes.
const (
	typeBool  = "BOOL"
	typeBytes = "BYTES"
	typeFP32  = "FP32"
	typeFP64  = "FP64"
)

// numericTypes are the datatypes a numeric or array column accepts.
var numericTypes = map[string]bool{
	"FP16": true, "BF16": true, typeFP32: true, typeFP64: true,
	"INT8": true, "INT16": true, "INT32": true, "INT64": true,
	"UINT8": true, "UINT16": true, "UINT32": true, "UINT64": true,
}

// tensorMeta describes one input or output in model metadata.
type tensorMeta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// modelMetadata is the answer to GET /v2/models/{name}.
type modelMetadata struct {
	Name     string       `json:"name"`
	Versions []string     `json:"versions"`
	Platform string       `json:"platform"`
	Inputs   []tensorMeta `json:"inputs"`
	Outputs  []tensorMeta `json:"outputs"`
}

// serverMetadata is the answer to GET /v2.
type serverMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

// inferRequest is the JSON body of an infer request. Data is decoded once
// the input's column is known.
type inferRequest struct {
	ID         string          `json:"id,omitempty"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
	Inputs     []inputTensor   `json:"inputs"`
	Outputs    []struct {
		Name string `json:"name"`
	} `json:"outputs,omitempty"`
}

// inputTensor is one named input of an infer request.
type inputTensor struct {
	Name     string          `json:"name"`
	Shape    []int64         `json:"shape"`
	Datatype string          `json:"datatype"`
	Data     json.RawMessage `json:"data"`
}

// inferResponse is the JSON body of a successful infer response.
type inferResponse struct {
	ModelName    string         `json:"model_name"`
	ModelVersion string         `json:"model_version"`
	ID           string         `json:"id,omitempty"`
	Outputs      []outputTensor `json:"outputs"`
}

// outputTensor is one output of an infer response; Data is []float32 or
// []string, flattened in row-major order.
type outputTensor struct {
	Name     string `json:"name"`
	Shape    []int  `json:"shape"`
	Datatype string `json:"datatype"`
	Data     any    `json:"data"`
}

// errorBody is every error answer.
type errorBody struct {
	Error string `json:"error"`
}
