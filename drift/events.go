package drift

// Native returns the report as a goavro native map for DriftReportSchema.
func (r *Report) Native() map[string]any { return reportNative(r) }

// Native returns the request as a goavro native map for
// RetrainRequestedSchema.
func (q *RetrainRequest) Native() map[string]any { return retrainNative(q) }

// reportNative is r as a goavro native map for DriftReportSchema.
func reportNative(r *Report) map[string]any {
	feats := make([]any, len(r.Features))
	for i := range r.Features {
		feats[i] = featureNative(&r.Features[i])
	}
	return map[string]any{
		"window_id":     r.WindowID,
		"window_seq":    r.Seq,
		"model_name":    r.Model,
		"model_version": r.Version,
		"window_start":  r.Start,
		"window_end":    r.End,
		"events":        r.Events,
		"lost_events":   r.LostEvents,
		"workers":       int32(r.Workers),
		"incomplete":    r.Incomplete,
		"drifted":       r.Drifted,
		"p_value":       r.PValue,
		"psi_threshold": r.PSIThreshold,
		"features":      feats,
		"prediction":    optionalFeature(r.Prediction),
		"created_at":    r.CreatedAt,
	}
}

// retrainNative is q as a goavro native map for RetrainRequestedSchema.
func retrainNative(q *RetrainRequest) map[string]any {
	feats := make([]any, len(q.Features))
	for i := range q.Features {
		feats[i] = featureNative(&q.Features[i])
	}
	ids := make([]any, len(q.WindowIDs))
	for i, id := range q.WindowIDs {
		ids[i] = id
	}
	wins := make([]any, len(q.Windows))
	for i, w := range q.Windows {
		wins[i] = map[string]any{"window_id": w.ID, "start": w.Start, "end": w.End, "events": w.Events, "flagged": w.Flagged}
	}
	kind := q.Kind
	if kind == "" {
		kind = KindDrift
	}
	var onset, quality any
	if !q.Onset.IsZero() {
		onset = map[string]any{"long.timestamp-millis": q.Onset}
	}
	if d := q.Quality; d != nil {
		quality = map[string]any{"sluice.QualityDrop": map[string]any{
			"metric": d.Metric, "live": d.Live, "reference": d.Reference, "margin": d.Margin, "labelled": d.Labelled,
		}}
	}
	return map[string]any{
		"event_id":      q.EventID,
		"model_name":    q.Model,
		"model_version": q.Version,
		"reason":        q.Reason,
		"features":      feats,
		"prediction":    optionalFeature(q.Prediction),
		"window_ids":    ids,
		"requested_at":  q.RequestedAt,
		"kind":          kind,
		"onset":         onset,
		"windows":       wins,
		"quality":       quality,
	}
}

func featureNative(f *FeatureResult) map[string]any {
	return map[string]any{
		"feature":       f.Feature,
		"kind":          string(f.Kind),
		"test":          f.Test,
		"statistic":     f.Statistic,
		"p_value":       f.PValue,
		"threshold":     f.Threshold,
		"psi":           f.PSI,
		"psi_threshold": f.PSIThreshold,
		"drifted":       f.Drifted,
		"missing":       f.Missing,
	}
}

// optionalFeature is the native value of a ["null", FeatureDrift] union.
func optionalFeature(f *FeatureResult) any {
	if f == nil {
		return nil
	}
	return map[string]any{"sluice.FeatureDrift": featureNative(f)}
}
