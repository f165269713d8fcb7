package schemas

// derive fills in the computed fields of a node tree (nullable, minSize,
// risky, norm). state maps a node to 1 while it is being derived and 2 once
// done; meeting a node in state 1 means the schema is recursive.
func derive(n *node, state map[*node]int) {
	switch state[n] {
	case 1:
		// Recursion: the guard must bound the depth. norm is set
		// conservatively; minSize keeps its lower bound.
		n.risky, n.norm = true, true
		return
	case 2:
		return
	}
	state[n] = 1
	n.nullable = -1
	switch n.kind {
	case kBoolean, kInt, kLong, kBytes, kString, kEnum:
		n.minSize = 1
	case kFloat:
		n.minSize = 4
	case kDouble:
		n.minSize = 8
	case kFixed:
		n.minSize = n.size
	case kArray, kMap:
		derive(n.items, state)
		n.minSize = 1 // the terminating zero count
		n.risky = true
		n.norm = n.norm || n.items.norm
		if n.kind == kArray && (n.items.kind == kFloat || n.items.kind == kDouble) {
			n.norm = true // read as []float32 or []float64
		}
	case kRecord:
		size := 0
		for _, f := range n.fields {
			derive(f.node, state)
			size += f.node.minSize
			n.risky = n.risky || f.node.risky
			n.norm = n.norm || f.node.norm
		}
		n.minSize = size
	case kUnion:
		least := -1
		nulls := 0
		for i, b := range n.branches {
			derive(b, state)
			if b.kind == kNull {
				nulls++
			} else {
				n.nullable = i
			}
			if least < 0 || b.minSize < least {
				least = b.minSize
			}
			n.risky = n.risky || b.risky
			n.norm = n.norm || b.norm
		}
		if len(n.branches) != 2 || nulls != 1 {
			n.nullable = -1
		} else {
			n.norm = true
		}
		n.minSize = 1 + max(least, 0)
	}
	state[n] = 2
}
