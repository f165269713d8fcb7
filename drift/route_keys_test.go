package drift

import (
	"strings"
	"testing"
)

// Two routes on one model version keep their windows apart, under the
// version's hash tag; no route is the version's keys as before routes.
func TestRouteKeys(t *testing.T) {
	plain, a, b := newKeys("fraud", "3"), newRouteKeys("fraud", "3", "a"), newRouteKeys("fraud", "3", "b")
	if plain.prefix != "sluice:drift:{fraud:3}:" || newRouteKeys("fraud", "3", "") != plain {
		t.Errorf("keys without a route: %+v", plain)
	}
	if a.state == b.state || a.closed == b.closed || a.window("w1") == b.window("w1") || a.state == plain.state {
		t.Errorf("routes share keys: %+v %+v", a, b)
	}
	for _, k := range []string{a.state, a.closed, a.window("w1"), a.lock("w1")} {
		if !strings.HasPrefix(k, "sluice:drift:{fraud:3}:r:a:") {
			t.Errorf("key %q is not under the version's hash tag and route a", k)
		}
	}
}
