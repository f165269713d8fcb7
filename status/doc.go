// Package status is the worker's live status page. A Sampler gathers the
// worker's own Prometheus registry once a second and keeps a short history;
// from it, GET /api/status answers JSON with the current throughput in and
// out (events/s over a sliding window), end-to-end and inference latency
// percentiles (from histogram deltas over the window), mean batch size,
// consumer lag, queue depths, dead letters by reason, the model versions in
// service and those the registry assigns that the worker does not serve
// (refused, or waiting for the input schema), drift scores per feature across recent drift windows, and the
// recent retrain and model events. GET / serves one embedded HTML page with
// a small script that polls it every second and draws the numbers and SVG
// charts: no build step, nothing fetched from outside the machine. A
// process serving several routes adds their series up for the totals and
// has a row per route (its route label): rates, totals, dead letters, lag
// and events in flight.
//
// The package reads metrics only (see the names in metrics.go); it knows
// nothing of the pipeline's types.
package status
