package drift

import (
	"strconv"
	"strings"
	"time"
)

// Report is the evaluation of one closed window: what a DriftReport event
// carries. Reports are values; share them freely once built.
type Report struct {
	WindowID string
	Seq      int64
	Model    string
	Version  string
	// Start and End are the times of the first and last flush into the
	// window (so they are accurate to the flush interval).
	Start, End time.Time
	Events     int64
	// LostEvents were observed during a Redis outage long enough that a
	// worker dropped them; they are in no window.
	LostEvents int64
	// Workers is how many workers contributed events.
	Workers int
	// Incomplete is set when some of the window's counts reached Redis
	// late or were lost (Redis was unreachable or lost its data); the
	// window is reported but does not count towards a retrain decision.
	Incomplete bool
	Drifted    bool
	// PValue is the family-wise significance; each test uses
	// FeatureResult.Threshold = PValue / number of tests.
	PValue       float64
	PSIThreshold float64
	Features     []FeatureResult
	// Prediction is the test of the prediction scores; nil when the
	// profile has no score histogram.
	Prediction *FeatureResult
	CreatedAt  time.Time
}

// FeatureResult is one feature's drift test in one window, in the manner
// of Alibi Detect: whether it drifted, the test statistic (distance), the
// p-value and the threshold it was held to, plus the PSI.
type FeatureResult struct {
	Feature string      `json:"feature"`
	Kind    FeatureKind `json:"kind"`
	// Test is "ks" (numeric: two-sample Kolmogorov–Smirnov on the binned
	// CDFs) or "chi2" (categorical: chi-squared homogeneity).
	Test         string  `json:"test"`
	Statistic    float64 `json:"statistic"`
	PValue       float64 `json:"p_value"`
	Threshold    float64 `json:"threshold"`
	PSI          float64 `json:"psi"`
	PSIThreshold float64 `json:"psi_threshold"`
	// Drifted is PValue < Threshold or PSI > PSIThreshold.
	Drifted bool `json:"drifted"`
	// Missing is the window's share of missing values.
	Missing float64 `json:"missing"`
}

// windowData is a closed window read back from Redis.
type windowData struct {
	seq, n, lost  int64
	start, end    int64
	workers       int
	incomplete    bool
	counts        []float64
	fingerprintOK bool
}

// parseWindow reads the fields of a window hash, summing the counts of
// every worker ("c:<worker>"); bins beyond the layout are ignored.
func parseWindow(f map[string]string, bins int, fp string) windowData {
	w := windowData{counts: make([]float64, bins)}
	num := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
	for k, v := range f {
		switch {
		case k == "seq":
			w.seq = num(v)
		case k == "n":
			w.n = num(v)
		case k == "lost":
			w.lost = num(v)
		case k == "start":
			w.start = num(v)
		case k == "end":
			w.end = num(v)
		case k == "inc":
			w.incomplete = v == "1"
		case k == "fp":
			w.fingerprintOK = v == fp
		case strings.HasPrefix(k, "wk:"):
			if num(v) > 0 {
				w.workers++
			}
		case strings.HasPrefix(k, "c:"):
			i := 0
			for f := range strings.SplitSeq(v, ",") {
				if i < bins {
					w.counts[i] += float64(num(f))
				}
				i++
			}
		}
	}
	return w
}
