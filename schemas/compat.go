package schemas

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Compatibility levels, as Confluent names them.
const (
	CompatNone               = "NONE"
	CompatBackward           = "BACKWARD"
	CompatBackwardTransitive = "BACKWARD_TRANSITIVE"
	CompatForward            = "FORWARD"
	CompatForwardTransitive  = "FORWARD_TRANSITIVE"
	CompatFull               = "FULL"
	CompatFullTransitive     = "FULL_TRANSITIVE"
)

var compatLevels = map[string]bool{
	CompatNone: true, CompatBackward: true, CompatBackwardTransitive: true,
	CompatForward: true, CompatForwardTransitive: true, CompatFull: true, CompatFullTransitive: true,
}

// checkCompat checks a new schema against the existing versions of a subject
// (oldest first) under level, and returns what is incompatible.
func checkCompat(level string, next *node, prev []*node) []string {
	if level == CompatNone || len(prev) == 0 {
		return nil
	}
	if !strings.HasSuffix(level, "_TRANSITIVE") {
		prev = prev[len(prev)-1:]
	}
	backward := strings.HasPrefix(level, "BACKWARD") || strings.HasPrefix(level, "FULL")
	forward := strings.HasPrefix(level, "FORWARD") || strings.HasPrefix(level, "FULL")
	var problems []string
	for _, old := range prev {
		if backward {
			problems = append(problems, canRead(next, old, map[[2]*node]bool{})...)
		}
		if forward {
			problems = append(problems, canRead(old, next, map[[2]*node]bool{})...)
		}
	}
	return problems
}

// canRead lists why data written with schema w cannot be read with schema r
// under Avro's schema resolution rules; nil means it can.
//
// seen holds the pairs being checked further up; meeting one again (in a
// recursive schema) assumes it compatible, as Avro's own checker does.
func canRead(r, w *node, seen map[[2]*node]bool) []string {
	pair := [2]*node{r, w}
	if seen[pair] {
		return nil
	}
	seen[pair] = true
	if w.kind == kUnion {
		var problems []string
		for _, wb := range w.branches {
			problems = append(problems, canRead(r, wb, seen)...)
		}
		return problems
	}
	if r.kind == kUnion {
		for _, rb := range r.branches {
			// A trial on a copy: pairs it assumes must not outlive it.
			if len(canRead(rb, w, maps.Clone(seen))) == 0 {
				return nil
			}
		}
		return []string{fmt.Sprintf("reader union has no branch for writer type %s", w.describe())}
	}
	if r.kind != w.kind {
		if promotes(w.kind, r.kind) {
			return nil
		}
		return []string{fmt.Sprintf("reader type %s cannot read writer type %s", r.describe(), w.describe())}
	}
	switch r.kind {
	case kRecord:
		if !sameName(r, w) {
			return []string{fmt.Sprintf("record name %s does not match %s", r.name, w.name)}
		}
		var problems []string
		for _, rf := range r.fields {
			wf := w.fieldFor(rf)
			if wf == nil {
				if !rf.hasDefault {
					problems = append(problems, fmt.Sprintf("field %s.%s is new and has no default", r.name, rf.name))
				}
				continue
			}
			problems = append(problems, canRead(rf.node, wf.node, seen)...)
		}
		return problems
	case kEnum:
		if !sameName(r, w) {
			return []string{fmt.Sprintf("enum name %s does not match %s", r.name, w.name)}
		}
		if r.enumDef {
			return nil
		}
		var problems []string
		for _, s := range w.symbols {
			if !slices.Contains(r.symbols, s) {
				problems = append(problems, fmt.Sprintf("enum %s lacks symbol %s", r.name, s))
			}
		}
		return problems
	case kFixed:
		if !sameName(r, w) || r.size != w.size {
			return []string{fmt.Sprintf("fixed %s(%d) does not match %s(%d)", r.name, r.size, w.name, w.size)}
		}
	case kArray, kMap:
		return canRead(r.items, w.items, seen)
	}
	return nil
}

// promotes reports whether a writer's w values are read as r (int to long,
// float or double; long to float or double; float to double; string and
// bytes either way).
func promotes(w, r kind) bool {
	switch w {
	case kInt:
		return r == kLong || r == kFloat || r == kDouble
	case kLong:
		return r == kFloat || r == kDouble
	case kFloat:
		return r == kDouble
	case kString:
		return r == kBytes
	case kBytes:
		return r == kString
	}
	return false
}

// sameName compares unqualified names, and the reader's aliases.
func sameName(r, w *node) bool {
	short := func(s string) string { return s[strings.LastIndexByte(s, '.')+1:] }
	if short(r.name) == short(w.name) {
		return true
	}
	for _, a := range r.aliases {
		if a == w.name || short(a) == short(w.name) {
			return true
		}
	}
	return false
}

// fieldFor finds the writer's field that reader field rf reads: same name,
// or one of rf's aliases.
func (n *node) fieldFor(rf field) *field {
	for i := range n.fields {
		if n.fields[i].name == rf.name {
			return &n.fields[i]
		}
	}
	for i := range n.fields {
		if slices.Contains(rf.aliases, n.fields[i].name) {
			return &n.fields[i]
		}
	}
	return nil
}

func (n *node) describe() string {
	if n.name != "" {
		return n.name
	}
	if n.kind == kUnion {
		return "union"
	}
	return n.unionName()
}
