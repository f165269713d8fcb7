package inference

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Shape is a tensor's shape as a signature writes it: a number per fixed
// dimension, and N (or any other name) for a symbolic one, held as -1.
type Shape []int64

// Dynamic is a symbolic dimension in a Shape.
const Dynamic = -1

// UnmarshalYAML reads [N, 4]: numbers, and names for symbolic dimensions.
func (s *Shape) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: a shape is a list such as [N, 4]", n.Line)
	}
	out := make(Shape, len(n.Content))
	for i, d := range n.Content {
		if d.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: shape[%d]: want a number or N", d.Line, i)
		}
		v, err := strconv.ParseInt(d.Value, 10, 64)
		switch {
		case err == nil && v > 0:
			out[i] = v
		case err == nil:
			return fmt.Errorf("line %d: shape[%d]: %d is not a positive size", d.Line, i, v)
		case isName(d.Value):
			out[i] = Dynamic
		default:
			return fmt.Errorf("line %d: shape[%d]: %q is neither a number nor a name such as N", d.Line, i, d.Value)
		}
	}
	*s = out
	return nil
}

// MarshalYAML writes symbolic dimensions as N.
func (s Shape) MarshalYAML() (any, error) {
	out := make([]any, len(s))
	for i, d := range s {
		out[i] = d
		if d < 0 {
			out[i] = "N"
		}
	}
	return out, nil
}

// String writes the shape as error messages do: [N 4].
func (s Shape) String() string { return s.join(" ") }

// YAML writes the shape as a signature does: [N, 4].
func (s Shape) YAML() string { return s.join(", ") }

func (s Shape) join(sep string) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.FormatInt(d, 10)
		if d < 0 {
			parts[i] = "N"
		}
	}
	return "[" + strings.Join(parts, sep) + "]"
}

func isName(v string) bool {
	if v == "" {
		return false
	}
	for i, r := range v {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// eventDims is the part of the shape one event fills: all but the batch
// dimension, or the whole shape when there is none.
func (s Shape) eventDims(noBatch bool) Shape {
	if noBatch || len(s) == 0 {
		return s
	}
	return s[1:]
}

// eventWidth is the number of elements one event fills, or -1 when a
// dimension is symbolic (or the shape is empty).
func (s Shape) eventWidth(noBatch bool) int {
	if len(s) == 0 {
		return -1
	}
	w := 1
	for _, d := range s.eventDims(noBatch) {
		if d < 0 {
			return -1
		}
		w *= int(d)
	}
	return w
}
