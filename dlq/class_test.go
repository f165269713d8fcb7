package dlq

import "testing"

func TestClassesAreDistinctAndKnown(t *testing.T) {
	seen := map[Class]bool{}
	for _, c := range Classes {
		if seen[c] {
			t.Errorf("class %q listed twice", c)
		}
		seen[c] = true
		if !Known(c) {
			t.Errorf("Known(%q) = false", c)
		}
	}
	if len(Classes) != 13 {
		t.Errorf("%d classes, want 13", len(Classes))
	}
	for _, c := range []Class{"", "Decode", "output too large"} {
		if Known(c) {
			t.Errorf("Known(%q) = true", c)
		}
	}
}
