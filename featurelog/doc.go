// Package featurelog is the workers' feature log: the framed input of each
// scored event, kept in Redis for a bounded time and count (Log), so that
// labels arriving later can be joined with the features the model saw.
// Workers write it through the pipeline's Keeper interface (beside the
// emit stage, never holding up predictions); the retrainer and `sluice
// retrain export` read it (Lookup, Recent).
package featurelog
