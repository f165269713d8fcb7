// Package drift tells when a model's live traffic no longer looks like the
// data it was trained on, merged across every worker of a group, and asks
// for a retrain.
//
// It owns the reference Profile (quantile bins of each numeric feature,
// category frequencies of each categorical one, the histogram of the
// model's scores; built with BuildProfile, ProfileFromCSV, ProfileFromOCF
// or ProfileFromFile and stored beside the model as profile.json), the
// Monitor that counts events into bins, the shared windows in Redis, the
// tests (PSI, binned two-sample Kolmogorov–Smirnov, chi-squared, the same
// on prediction scores), the retrain decision (Decision, Gate), and the
// Avro events DriftReport and RetrainRequested. It does not talk to Kafka: events go
// out through a Sink that the pipeline provides.
//
// # Use
//
// The pipeline builds one Monitor per model version it serves and runs it
// beside the other stages:
//
//	p, _ := drift.LoadProfile(filepath.Join(modelDir, "profile.json"))
//	mon, _ := drift.NewMonitor(cfg, "fraud", "3", p, rdb, sink,
//		drift.WithMetrics(metrics), drift.WithLogger(log))
//	go mon.Run(ctx) // flushes, closes and evaluates windows
//	...
//	if mon.Sample() { // per scored event: is this one to bin?
//		mon.Observe(names, values, score) // the record as fields (schemas.Fields)
//	}
//
// On a hot swap it starts a Monitor for the new version and cancels the
// old one's Run, which flushes what it holds.
//
// # Windows
//
// Windows are tumbling, per model version, and shared by the group. Each
// worker counts locally (Observe: no I/O, no allocation) and flushes every
// FlushInterval or FlushEvents events with one Lua script call: one round
// trip that adds its counts to its own field of the open window's hash
// (one comma-separated list of integers, so a flush is a handful of
// commands however many bins the profile has) and closes the
// window when the group's event count reaches WindowEvents or, at any
// flush or tick, when it is WindowDuration old (and holds at least
// MinWindowEvents). Because the script runs atomically, workers never
// disagree about which window is open, a flush never straddles two
// windows, and exactly one worker's call closes each window. Window ids
// are "<epoch>-<seq>": seq is a per-version counter in Redis, epoch a
// random tag created with that state, so ids stay unique when Redis loses
// its data. Window bounds are therefore as precise as the flush interval,
// and a window may exceed WindowEvents by at most one flush per worker.
//
// The closing worker then takes the window's close lock (SET NX PX) and
// evaluates it; if it dies, the lock expires and another worker's sweep
// evaluates the window.
//
// # Retrain requests
//
// A Decision keeps each version's evaluated windows in Redis: a retrain
// request needs RetrainK of the last RetrainM complete windows to belong to
// the newest drifted window's episode (drifted in a feature it drifted in,
// or both in the scores; a window flagged by chance for something else
// does not count). The request carries the episode's onset (the start of
// its first window) and the RetrainM windows with their bounds, so a
// retrainer can train on the traffic since the change. A Gate then admits
// it: one request per model version per Cooldown, and at most
// MaxRequestsPerHour per model, both atomic in one Lua call, so N workers
// send one request and versions that keep failing cannot start a storm.
// The live-quality service (package quality) records its windows in
// another series of the same Decision and passes the same Gate.
// ResetDecision forgets a version's windows when it takes production.
//
// # Outages
//
// When Redis cannot be reached, Observe carries on; flushes fail (logged
// once, counted in sluice_drift_flush_errors_total) and the counts are
// kept, bounded to one window of events beyond which they are dropped and
// reported as lost. The window the kept counts finally land in, or the
// first window after Redis lost its data (a new epoch), is reported with
// incomplete set, and incomplete windows do not count towards a retrain.
//
// # Tests
//
// Each window tests every feature and the prediction score. Numeric
// features: KS on the CDFs over the profile's bins (missing values last),
// p-value from the asymptotic Kolmogorov distribution at the effective
// sample size n*m/(n+m); categorical features: chi-squared homogeneity of
// the 2 x K table (sparse bins pooled), p-value from gonum's chi-squared
// distribution; and PSI with a pseudo-count of 0.5 per bin.
// A feature drifts when its p-value is below PValue divided by the number
// of tests (Bonferroni) or its PSI exceeds PSIThreshold.
package drift
