package schemas

// normalize rewrites, in place, what goavro decoded for n so that callers
// read plain values: a union of null and one other type becomes the value or
// nil instead of goavro's map[string]any{"double": v}, and an array of
// floats or doubles a []float32 or []float64 instead of a []any. Unions of
// more than one non-null type keep goavro's single-key map (the key names
// the branch), with their contents normalised. It allocates only the
// arrays of numbers.
func normalize(v any, n *node) any {
	if !n.norm || v == nil {
		return v
	}
	switch n.kind {
	case kUnion:
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			return v
		}
		for key, inner := range m {
			if n.nullable >= 0 {
				return normalize(inner, n.branches[n.nullable])
			}
			if b := n.branchNamed(key); b != nil {
				m[key] = normalize(inner, b)
			}
		}
		return m
	case kRecord:
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		for _, f := range n.fields {
			if !f.node.norm {
				continue
			}
			if fv, ok := m[f.name]; ok {
				m[f.name] = normalize(fv, f.node)
			}
		}
		return m
	case kArray:
		s, ok := v.([]any)
		if !ok {
			return v
		}
		switch n.items.kind {
		case kFloat:
			return numbers[float32](s)
		case kDouble:
			return numbers[float64](s)
		}
		for i := range s {
			s[i] = normalize(s[i], n.items)
		}
		return v
	case kMap:
		if m, ok := v.(map[string]any); ok {
			for k, mv := range m {
				m[k] = normalize(mv, n.items)
			}
		}
		return v
	}
	return v
}

// branchNamed returns the union branch goavro names key, or nil.
func (n *node) branchNamed(key string) *node {
	for _, b := range n.branches {
		if b.unionName() == key {
			return b
		}
	}
	return nil
}

// unionName is the key goavro uses for a value of n inside a union: the full
// name of a named type, "array" or "map", the primitive's name, or
// "long.timestamp-millis" and the like for the logical types goavro knows.
func (n *node) unionName() string {
	switch n.kind {
	case kRecord, kEnum, kFixed:
		return n.name
	case kArray:
		return "array"
	case kMap:
		return "map"
	}
	name := primitiveNames[n.kind]
	if n.logical != "" {
		if _, known := goavroLogical[name+"."+n.logical]; known {
			return name + "." + n.logical
		}
	}
	return name
}

var primitiveNames = [...]string{
	kNull: "null", kBoolean: "boolean", kInt: "int", kLong: "long",
	kFloat: "float", kDouble: "double", kBytes: "bytes", kString: "string",
}

// goavroLogical are the logical types goavro names "type.logicalType".
var goavroLogical = map[string]struct{}{
	"long.timestamp-millis": {}, "long.timestamp-micros": {}, "int.time-millis": {},
	"long.time-micros": {}, "int.date": {}, "bytes.decimal": {},
}

// numbers copies goavro's array of floats or doubles into a typed slice.
func numbers[T float32 | float64](s []any) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[i], _ = v.(T)
	}
	return out
}
