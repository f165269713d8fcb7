package registry

import (
	"encoding/json"
	"fmt"
)

// fieldKind is what a draft can do with an Avro field.
type fieldKind int

const (
	fieldOther   fieldKind = iota // records, maps, bytes, other unions: not drafted
	fieldNumeric                  // int, long, float, double
	fieldBoolean                  // boolean
	fieldString                   // string
	fieldEnum                     // enum (symbols known)
	fieldArray                    // array of numbers or booleans
	fieldTime                     // a timestamp or date logical type: an event time, not a feature
)

// avroField is one field of the input record as a draft sees it.
type avroField struct {
	name     string
	kind     fieldKind
	nullable bool
	integer  bool     // numeric or array items: int or long
	symbols  []string // enum
	strItems bool     // array of strings
	typ      string   // the type as written, for comments
}

// recordFields reads the fields of an Avro record schema (JSON text).
func recordFields(schema string) (name string, fields []avroField, err error) {
	var rec struct {
		Type   string `json:"type"`
		Name   string `json:"name"`
		Fields []struct {
			Name string          `json:"name"`
			Type json.RawMessage `json:"type"`
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(schema), &rec); err != nil {
		return "", nil, fmt.Errorf("registry: input schema: %w", err)
	}
	if rec.Type != "record" {
		return "", nil, fmt.Errorf("registry: input schema: type is %q, want record", rec.Type)
	}
	for _, f := range rec.Fields {
		af := avroField{name: f.Name, typ: compactJSON(f.Type)}
		classify(&af, f.Type)
		fields = append(fields, af)
	}
	return rec.Name, fields, nil
}

// classify sets f's kind from its Avro type: a name, an object, or a
// union of null and one other type.
func classify(f *avroField, raw json.RawMessage) {
	var union []json.RawMessage
	if json.Unmarshal(raw, &union) == nil {
		var other []json.RawMessage
		for _, u := range union {
			var s string
			if json.Unmarshal(u, &s) == nil && s == "null" {
				f.nullable = true
				continue
			}
			other = append(other, u)
		}
		if len(other) == 1 {
			classify(f, other[0])
			return
		}
		f.kind = fieldOther
		return
	}
	var name string
	if json.Unmarshal(raw, &name) == nil {
		f.kind, f.integer = primitiveKind(name)
		return
	}
	var obj struct {
		Type        json.RawMessage `json:"type"`
		LogicalType string          `json:"logicalType"`
		Symbols     []string        `json:"symbols"`
		Items       json.RawMessage `json:"items"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return
	}
	switch obj.LogicalType {
	case "timestamp-millis", "timestamp-micros", "local-timestamp-millis", "local-timestamp-micros", "date":
		f.kind = fieldTime
		return
	}
	var t string
	if json.Unmarshal(obj.Type, &t) != nil {
		return
	}
	switch t {
	case "enum":
		f.kind, f.symbols = fieldEnum, obj.Symbols
	case "array":
		var item avroField
		classify(&item, obj.Items)
		switch item.kind {
		case fieldNumeric, fieldBoolean:
			f.kind, f.integer = fieldArray, item.integer
		case fieldString, fieldEnum:
			f.kind, f.strItems = fieldArray, true
		case fieldArray:
			f.kind, f.integer, f.strItems = fieldArray, item.integer, item.strItems // nested arrays fill row-major
		}
	default:
		f.kind, f.integer = primitiveKind(t)
	}
}

// primitiveKind is the kind of a primitive Avro type name.
func primitiveKind(t string) (kind fieldKind, integer bool) {
	switch t {
	case "int", "long":
		return fieldNumeric, true
	case "float", "double":
		return fieldNumeric, false
	case "boolean":
		return fieldBoolean, false
	case "string":
		return fieldString, false
	}
	return fieldOther, false
}

func compactJSON(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
