package status

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// driftPoint is the drift scores after one drift window.
type driftPoint struct {
	at     time.Time
	scores map[driftKey]float64
}

// driftHistory keeps the scores of the last max drift windows. A window is
// seen when the closed-window counter moves or a score changes between two
// samples (windows closing faster than the sample interval share a point).
type driftHistory struct {
	max    int
	points []driftPoint
}

func (h *driftHistory) observe(prev, s *snapshot) {
	if len(s.drift) == 0 {
		return
	}
	if n := len(h.points); n > 0 && prev != nil && prev.windows == s.windows && maps.Equal(h.points[n-1].scores, s.drift) {
		return
	}
	if len(h.points) == h.max {
		h.points = slices.Delete(h.points, 0, 1)
	}
	h.points = append(h.points, driftPoint{at: s.at, scores: s.drift})
}

// DriftSeries is one drift statistic of one feature across recent windows;
// Points are [unix milliseconds, value] pairs, oldest first.
type DriftSeries struct {
	Model   string   `json:"model"`
	Feature string   `json:"feature"`
	Test    string   `json:"test"`
	Latest  Num      `json:"latest"`
	Points  [][2]Num `json:"points"`
}

// series lists every statistic seen in the kept windows, by model,
// feature and test.
func (h *driftHistory) series() []DriftSeries {
	idx := map[driftKey]int{}
	var out []DriftSeries
	for _, p := range h.points {
		for k, v := range p.scores {
			i, ok := idx[k]
			if !ok {
				i = len(out)
				idx[k] = i
				out = append(out, DriftSeries{Model: k.Model, Feature: k.Feature, Test: k.Test})
			}
			out[i].Points = append(out[i].Points, [2]Num{Num(p.at.UnixMilli()), Num(v)})
			out[i].Latest = Num(v)
		}
	}
	slices.SortFunc(out, func(a, b DriftSeries) int {
		return strings.Compare(a.Model+"\x00"+a.Feature+"\x00"+a.Test, b.Model+"\x00"+b.Feature+"\x00"+b.Test)
	})
	return out
}
