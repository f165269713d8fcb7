package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// kind is the Avro type of a schema node.
type kind uint8

const (
	kNull kind = iota
	kBoolean
	kInt
	kLong
	kFloat
	kDouble
	kBytes
	kString
	kRecord
	kEnum
	kArray
	kMap
	kUnion
	kFixed
)

var primitiveKinds = map[string]kind{
	"null": kNull, "boolean": kBoolean, "int": kInt, "long": kLong,
	"float": kFloat, "double": kDouble, "bytes": kBytes, "string": kString,
}

// node is our own parsed form of an Avro schema. goavro's Codec hides its
// structure, and the decoder needs it to guard against hostile bodies, to
// unwrap nullable unions, and the server to check compatibility.
type node struct {
	kind     kind
	logical  string   // logicalType of a primitive or fixed
	name     string   // full name of a record, enum or fixed
	aliases  []string // full names
	fields   []field  // record
	items    *node    // array items, map values
	branches []*node  // union
	symbols  []string // enum
	enumDef  bool     // enum has a default symbol
	size     int      // fixed

	nullable int  // union [null, X] or [X, null]: index of X; else -1
	minSize  int  // fewest bytes an encoded value takes
	risky    bool // has arrays, maps or recursion: the guard must walk it
	norm     bool // has nullable unions to unwrap
}

type field struct {
	name       string
	aliases    []string
	node       *node
	hasDefault bool
}

// parseSchema parses Avro schema JSON into a node tree. Named types refer to
// one node, so recursive schemas make cycles.
func parseSchema(text string) (*node, error) {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return nil, fmt.Errorf("parsing schema json: %w", err)
	}
	p := parser{named: map[string]*node{}}
	n, err := p.parse(v, "")
	if err != nil {
		return nil, err
	}
	derive(n, map[*node]int{})
	return n, nil
}

type parser struct{ named map[string]*node }

func (p *parser) parse(v any, ns string) (*node, error) {
	switch t := v.(type) {
	case string:
		return p.ref(t, ns)
	case []any:
		u := &node{kind: kUnion}
		for _, b := range t {
			bn, err := p.parse(b, ns)
			if err != nil {
				return nil, err
			}
			u.branches = append(u.branches, bn)
		}
		return u, nil
	case map[string]any:
		return p.parseObject(t, ns)
	}
	return nil, fmt.Errorf("schema element of json type %T", v)
}

func (p *parser) ref(name, ns string) (*node, error) {
	if k, ok := primitiveKinds[name]; ok {
		return &node{kind: k}, nil
	}
	if !strings.Contains(name, ".") && ns != "" {
		if n, ok := p.named[ns+"."+name]; ok {
			return n, nil
		}
	}
	if n, ok := p.named[name]; ok {
		return n, nil
	}
	return nil, fmt.Errorf("unknown type %q", name)
}

func (p *parser) parseObject(m map[string]any, ns string) (*node, error) {
	logical, _ := m["logicalType"].(string)
	switch t := m["type"].(type) {
	case map[string]any, []any:
		return p.parse(t, ns)
	case string:
		switch t {
		case "record", "error":
			return p.parseRecord(m, ns)
		case "enum", "fixed":
			n, _, err := p.declare(m, ns)
			if err != nil {
				return nil, err
			}
			if t == "fixed" {
				n.kind, n.logical = kFixed, logical
				size, ok := m["size"].(float64)
				if !ok || size < 0 || size > maxBlockSize {
					return nil, fmt.Errorf("fixed %s: bad size", n.name)
				}
				n.size = int(size)
				return n, nil
			}
			n.kind = kEnum
			syms, _ := m["symbols"].([]any)
			for _, s := range syms {
				str, _ := s.(string)
				n.symbols = append(n.symbols, str)
			}
			_, n.enumDef = m["default"].(string)
			return n, nil
		case "array", "map":
			key := "items"
			n := &node{kind: kArray}
			if t == "map" {
				key, n.kind = "values", kMap
			}
			items, err := p.parse(m[key], ns)
			if err != nil {
				return nil, err
			}
			n.items = items
			return n, nil
		}
		n, err := p.ref(t, ns)
		if err != nil {
			return nil, err
		}
		if logical != "" && n.kind <= kString {
			n.logical = logical
		}
		return n, nil
	}
	return nil, errors.New("schema object without a type")
}

// declare registers a named type and returns its node and namespace.
func (p *parser) declare(m map[string]any, ns string) (*node, string, error) {
	name, _ := m["name"].(string)
	if name == "" {
		return nil, "", errors.New("named type without a name")
	}
	if explicit, ok := m["namespace"].(string); ok && !strings.Contains(name, ".") {
		ns = explicit
	}
	full := qualify(name, ns)
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		ns = full[:i]
	} else {
		ns = ""
	}
	n := &node{name: full}
	if al, ok := m["aliases"].([]any); ok {
		for _, a := range al {
			if s, ok := a.(string); ok {
				n.aliases = append(n.aliases, qualify(s, ns))
			}
		}
	}
	p.named[full] = n
	return n, ns, nil
}

func qualify(name, ns string) string {
	if strings.Contains(name, ".") || ns == "" {
		return name
	}
	return ns + "." + name
}

func (p *parser) parseRecord(m map[string]any, ns string) (*node, error) {
	n, ns, err := p.declare(m, ns)
	if err != nil {
		return nil, err
	}
	n.kind = kRecord
	fs, ok := m["fields"].([]any)
	if !ok {
		return nil, fmt.Errorf("record %s without fields", n.name)
	}
	for _, f := range fs {
		fm, ok := f.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record %s: field is not an object", n.name)
		}
		name, _ := fm["name"].(string)
		fn, err := p.parse(fm["type"], ns)
		if err != nil {
			return nil, fmt.Errorf("record %s field %s: %w", n.name, name, err)
		}
		_, hasDefault := fm["default"]
		fld := field{name: name, node: fn, hasDefault: hasDefault}
		if al, ok := fm["aliases"].([]any); ok {
			for _, a := range al {
				if s, ok := a.(string); ok {
					fld.aliases = append(fld.aliases, s)
				}
			}
		}
		n.fields = append(n.fields, fld)
	}
	return n, nil
}
