package consumers

// Lag returns how many messages the reader is behind the end of the
// partition it fetched from last: the high-water mark minus the next offset,
// as kafka-go saw it on its latest fetch. It is an estimate for dashboards
// (one partition, fetch position rather than committed offset); 0 before the
// first fetch. Safe for concurrent use.
func (r *Reader) Lag() int64 {
	// Stats swaps kafka-go's counters to zero, but no one else reads them;
	// the lag gauge is only loaded.
	return r.kr.Stats().Lag
}
