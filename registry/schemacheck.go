package registry

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-ml/sluice/inference"
)

// SchemaCheck returns a check for WatcherConfig.CheckSignature: every
// input column of a signature must read a field of the Avro record schema
// (its JSON text, e.g. schemas.TransactionSchema()) whose type the column
// can read: numeric from int, long, float or double; boolean from boolean;
// categorical from string or enum; array from array (a nullable union of
// these is fine; a named type it cannot see is accepted). The check is safe
// for concurrent use.
func SchemaCheck(schema string) (func(*inference.Signature) error, error) {
	var rec struct {
		Type   string `json:"type"`
		Name   string `json:"name"`
		Fields []struct {
			Name string          `json:"name"`
			Type json.RawMessage `json:"type"`
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(schema), &rec); err != nil {
		return nil, fmt.Errorf("registry: input schema: %w", err)
	}
	if rec.Type != "record" {
		return nil, fmt.Errorf("registry: input schema: type is %q, want record", rec.Type)
	}
	fields := make(map[string][]string, len(rec.Fields))
	for _, f := range rec.Fields {
		fields[f.Name] = avroTypes(f.Type)
	}
	return func(sig *inference.Signature) error {
		for _, c := range sig.Columns() {
			types, ok := fields[c.Field]
			if !ok {
				return fmt.Errorf("%w: column %q reads a field record %s does not have", ErrSchemaMismatch, c.Field, rec.Name)
			}
			if want := kindTypes[c.Kind]; want != nil && !slices.ContainsFunc(types, func(t string) bool {
				return slices.Contains(want, t) || !isPrimitive(t)
			}) {
				return fmt.Errorf("%w: column %q is %s, but field %s.%s is %s",
					ErrSchemaMismatch, c.Field, c.Kind, rec.Name, c.Field, strings.Join(types, "|"))
			}
		}
		return nil
	}, nil
}

// kindTypes are the Avro types a column kind reads.
var kindTypes = map[inference.ColumnKind][]string{
	inference.KindNumeric:     {"int", "long", "float", "double"},
	inference.KindBoolean:     {"boolean"},
	inference.KindCategorical: {"string", "enum"},
	inference.KindArray:       {"array"},
	inference.KindString:      {"string", "enum"},
}

func isPrimitive(t string) bool {
	switch t {
	case "null", "boolean", "int", "long", "float", "double", "bytes", "string",
		"record", "enum", "array", "map", "fixed":
		return true
	}
	return false
}

// avroTypes returns the non-null types of a field's type: a name, an
// object's "type", or the members of a union.
func avroTypes(raw json.RawMessage) []string {
	var name string
	if json.Unmarshal(raw, &name) == nil {
		if name == "null" {
			return nil
		}
		return []string{name}
	}
	var obj struct {
		Type json.RawMessage `json:"type"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Type != nil {
		return avroTypes(obj.Type)
	}
	var union []json.RawMessage
	if json.Unmarshal(raw, &union) == nil {
		var out []string
		for _, u := range union {
			out = append(out, avroTypes(u)...)
		}
		return out
	}
	return nil
}
