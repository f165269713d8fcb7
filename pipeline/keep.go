package pipeline

import "context"

// KeptEvent is one scored input event as a retrainer will need it: its id
// and its original, framed value.
type KeptEvent struct {
	EventID string
	Value   []byte
}

// Keeper keeps the input events of each scored batch for a bounded time, so
// that a retrainer can join them with labels that arrive later (the
// featurelog package implements it on Redis). Keep is called once per
// batch from the side stage (side.go), beside the emit stage, and must be
// safe for concurrent use; an error is logged and counted, and never holds
// up predictions.
type Keeper interface {
	Keep(ctx context.Context, events []KeptEvent) error
}
