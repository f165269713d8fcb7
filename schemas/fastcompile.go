package schemas

// A fastDecoder reads the bodies of one writer schema straight from the
// bytes into the map Decode returns, without goavro. It is compiled once per
// schema id, when the codec is cached, for records whose fields are
//
//	null, boolean, int, long, float, double, string, bytes
//	timestamp-millis/micros, date, time-millis/micros
//	enum, fixed (not decimal)
//	["null", X] or [X, "null"] of the above, or of an array of them
//	arrays of the above, or of nullable unions of them
//	maps of the above (and of arrays and maps of them)
//
// and returns what the goavro path returns after normalize. Anything else
// (nested records, arrays of arrays or maps, other unions, decimals,
// validated strings) keeps the goavro path. A fastDecoder is immutable and safe for concurrent use.
type fastDecoder struct {
	fields []fastField
	// guarded is set when the goavro path would run guardBody first (the
	// schema has arrays): the fast path then applies the guard's limits too,
	// so both accept exactly the same bodies.
	guarded bool
}

type fastField struct {
	name string
	op   fastOp
}

type opcode uint8

const (
	opNull opcode = iota
	opBoolean
	opInt
	opLong
	opFloat
	opDouble
	opString
	opBytes
	opEnum
	opFixed
	opTimestampMillis
	opTimestampMicros
	opDate
	opTimeMillis
	opTimeMicros
	opNullable // elem, or nil when the branch index is nullIndex
	opArray    // elem items; least is the fewest bytes one item takes
	opMap      // string keys and elem values; least as opArray, key included
)

// fastOp is one instruction: how to read one value.
type fastOp struct {
	code      opcode
	nullIndex int64   // opNullable: the branch index of null (0 or 1)
	size      int     // opFixed: bytes
	least     int64   // opArray, opMap: an item's minSize, as the guard uses it
	symbols   []any   // opEnum: the symbols, boxed once (no allocation per value)
	elem      *fastOp // opNullable, opArray, opMap
}

// compileFast returns the fast decoder of a record schema, or nil when the
// schema has a type it does not cover.
func compileFast(root *node) *fastDecoder {
	if root.kind != kRecord {
		return nil
	}
	fd := &fastDecoder{fields: make([]fastField, len(root.fields)), guarded: root.risky}
	for i, f := range root.fields {
		op := compileOp(f.node, true, true)
		if op == nil {
			return nil
		}
		fd.fields[i] = fastField{name: f.name, op: *op}
	}
	return fd
}

// compileOp compiles n; arrays and nullable unions may contain each other
// once, as the flags allow.
func compileOp(n *node, array, union bool) *fastOp {
	switch n.kind {
	case kUnion:
		if !union || n.nullable < 0 {
			return nil
		}
		elem := compileOp(n.branches[n.nullable], array, false)
		if elem == nil {
			return nil
		}
		return &fastOp{code: opNullable, nullIndex: int64(1 - n.nullable), elem: elem}
	case kArray:
		if !array {
			return nil
		}
		elem := compileOp(n.items, false, union)
		if elem == nil {
			return nil
		}
		return &fastOp{code: opArray, least: int64(n.items.minSize), elem: elem}
	case kMap:
		if !array {
			return nil
		}
		elem := compileOp(n.items, true, union)
		if elem == nil {
			return nil
		}
		return &fastOp{code: opMap, least: int64(n.items.minSize) + 1, elem: elem}
	case kEnum:
		symbols := make([]any, len(n.symbols))
		for i, s := range n.symbols {
			symbols[i] = s
		}
		return &fastOp{code: opEnum, symbols: symbols}
	case kFixed:
		if n.logical == "decimal" {
			return nil
		}
		return &fastOp{code: opFixed, size: n.size}
	}
	if n.kind > kString {
		return nil // records
	}
	code, ok := primitiveOp(n.kind, n.logical)
	if !ok {
		return nil
	}
	return &fastOp{code: code}
}

// primitiveOp maps a primitive and its logicalType onto an opcode the way
// goavro does: a logical type goavro knows changes the value, one it does
// not know is ignored.
func primitiveOp(k kind, logical string) (opcode, bool) {
	if logical != "" {
		switch primitiveNames[k] + "." + logical {
		case "long.timestamp-millis":
			return opTimestampMillis, true
		case "long.timestamp-micros":
			return opTimestampMicros, true
		case "int.date":
			return opDate, true
		case "int.time-millis":
			return opTimeMillis, true
		case "long.time-micros":
			return opTimeMicros, true
		case "bytes.decimal", "string.validated-string":
			return 0, false
		}
	}
	return [...]opcode{
		kNull: opNull, kBoolean: opBoolean, kInt: opInt, kLong: opLong,
		kFloat: opFloat, kDouble: opDouble, kBytes: opBytes, kString: opString,
	}[k], true
}
