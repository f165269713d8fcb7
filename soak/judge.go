package soak

import (
	"fmt"
	"io"
	"strings"
)

// Flatness: after the warm-up, a memory series is flat when the peak of
// its second half is at most flatRatio times the peak of its first half
// plus flatSlack (garbage-collected heaps and allocators breathe; a leak
// grows without bound and fails this over any long enough run).
const (
	flatRatio = 1.15
	flatSlack = 16 << 20
)

// Verdict is one judged series.
type Verdict struct {
	Series string `json:"series"`
	// Warm and End are the series' peak in the first and second halves of
	// the samples after the warm-up; Max its peak over the whole run.
	Warm uint64 `json:"warm"`
	End  uint64 `json:"end"`
	Max  uint64 `json:"max"`
	OK   bool   `json:"ok"`
	Why  string `json:"why"`
}

// judge returns a verdict for each memory series and Redis's limit.
func judge(cfg Config, samples []Sample) ([]Verdict, bool) {
	var after []Sample
	for _, s := range samples {
		if s.At >= cfg.WarmUp {
			after = append(after, s)
		}
	}
	series := map[string]func(Sample) uint64{}
	names := []string{}
	for i, p := range cfg.Processes {
		name := p.Name + " RSS"
		names = append(names, name)
		series[name] = func(s Sample) uint64 { return s.RSS[i] }
	}
	if cfg.Redis != nil {
		names = append(names, "redis used_memory")
		series["redis used_memory"] = func(s Sample) uint64 { return s.RedisUsed }
	}
	all := true
	var out []Verdict
	for _, name := range names {
		get := series[name]
		v := Verdict{Series: name}
		for _, s := range samples {
			v.Max = max(v.Max, get(s))
		}
		switch {
		case len(after) < 4:
			v.Why = fmt.Sprintf("too few samples after the %s warm-up to judge", cfg.WarmUp)
		default:
			half := len(after) / 2
			for _, s := range after[:half] {
				v.Warm = max(v.Warm, get(s))
			}
			for _, s := range after[half:] {
				v.End = max(v.End, get(s))
			}
			limit := uint64(float64(v.Warm)*flatRatio) + flatSlack
			v.OK = v.End <= limit
			v.Why = fmt.Sprintf("peak %s MiB in the second half after warm-up, %s MiB in the first (flat: at most %s MiB)", MiB(v.End), MiB(v.Warm), MiB(limit))
		}
		if name == "redis used_memory" && v.Max >= cfg.RedisLimit {
			v.OK = false
			v.Why += fmt.Sprintf("; peak %s MiB reached the %s MiB limit", MiB(v.Max), MiB(cfg.RedisLimit))
		}
		all = all && v.OK
		out = append(out, v)
	}
	return out, all
}

func printVerdicts(cfg Config, rep Report) {
	var b strings.Builder
	last := rep.Samples[len(rep.Samples)-1]
	first := rep.Samples[0]
	if secs := (last.At - first.At).Seconds(); secs > 0 {
		fmt.Fprintf(&b, "over %s: %d events in (%.0f/s), %d predictions out (%.0f/s), lag at the end %d; disk at the end %s MiB\n",
			clock(last.At-first.At), last.In-first.In, float64(last.In-first.In)/secs,
			last.Out-first.Out, float64(last.Out-first.Out)/secs, last.Lag, MiB(uint64(max(last.Disk, 0))))
	}
	for _, v := range rep.Verdicts {
		status := "ok"
		if !v.OK {
			status = "FAIL"
		}
		fmt.Fprintf(&b, "%-4s %-22s max %6s MiB; %s\n", status, v.Series, MiB(v.Max), v.Why)
	}
	io.WriteString(cfg.Out, b.String())
}
