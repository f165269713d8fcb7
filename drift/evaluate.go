package drift

import "time"

// evaluateCounts runs the tests of every feature on a window's counts.
func (m *Monitor) evaluateCounts(id string, w windowData) *Report {
	tests := len(m.lay.feats)
	if m.lay.score != nil {
		tests++
	}
	alpha := m.cfg.PValue / float64(max(1, tests))
	r := &Report{
		WindowID: id, Seq: w.seq, Model: m.model, Version: m.version,
		Start: time.UnixMilli(w.start).UTC(), End: time.UnixMilli(w.end).UTC(),
		Events: w.n, LostEvents: w.lost, Workers: w.workers, Incomplete: w.incomplete,
		PValue: m.cfg.PValue, PSIThreshold: m.cfg.PSIThreshold, CreatedAt: m.now().UTC(),
	}
	for i := range m.lay.feats {
		fr := m.test(&m.lay.feats[i], w.counts, alpha)
		r.Drifted = r.Drifted || fr.Drifted
		r.Features = append(r.Features, fr)
	}
	if s := m.lay.score; s != nil {
		fr := m.test(s, w.counts, alpha)
		r.Drifted = r.Drifted || fr.Drifted
		r.Prediction = &fr
	}
	return r
}

// test compares one feature's live bins with its reference.
func (m *Monitor) test(b *binner, all []float64, alpha float64) FeatureResult {
	live := all[b.off : b.off+b.nb]
	fr := FeatureResult{
		Feature: b.name, Kind: b.kind, Threshold: alpha, PSIThreshold: m.cfg.PSIThreshold, PValue: 1,
	}
	var n float64
	for _, v := range live {
		n += v
	}
	if n > 0 {
		fr.Missing = live[len(live)-1] / n
	}
	fr.PSI = psiCounts(b.ref, live)
	if b.kind == Categorical {
		fr.Test = "chi2"
		fr.Statistic, _, fr.PValue = chi2Homogeneity(b.ref, live)
	} else {
		fr.Test = "ks"
		fr.Statistic, fr.PValue = ksBinned(b.ref, live)
	}
	fr.Drifted = fr.PValue < alpha || fr.PSI > m.cfg.PSIThreshold
	return fr
}
