package loadgen

import (
	"fmt"
	"strings"

	"github.com/sluice-ml/sluice/demo"
)

// DriftChannelMix is the channel mix a drifted stream switches to when
// "channel" is among the drifted features: mostly web, little point of sale.
var DriftChannelMix = map[string]float64{"web": 0.7, "mobile": 0.2, "pos": 0.05, "atm": 0.05}

// ParseDrift turns the --drift-* flags into a generator option: numeric
// features shift by shift training standard deviations after `after`
// events; "channel" changes the categorical mix. It returns nil when
// features is empty.
func ParseDrift(after int, features string, shift float64) (demo.Option, error) {
	if strings.TrimSpace(features) == "" {
		return nil, nil
	}
	d := demo.Drift{After: after, Shift: shift}
	for _, f := range strings.Split(features, ",") {
		switch f = strings.TrimSpace(f); f {
		case "":
		case demo.FieldChannel:
			d.ChannelMix = DriftChannelMix
		default:
			d.Features = append(d.Features, f)
		}
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("--drift-features: %w", err)
	}
	return demo.WithDrift(d), nil
}

// ParseConcept turns --concept-drift-after into a generator option: from
// event after on, labels follow the demo package's second rule while no
// feature moves (concept drift). A negative after returns nil.
func ParseConcept(after int) demo.Option {
	if after < 0 {
		return nil
	}
	return demo.WithDrift(demo.Drift{After: after, Concept: true})
}
