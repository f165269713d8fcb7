package retrain

import "context"

// KeptFeatures is where the retrainer and Export find the inputs workers
// kept for retraining (FeatureLog on Redis): the framed value of each
// event id, nil where none is kept. It must be safe for concurrent use.
type KeptFeatures interface {
	Lookup(ctx context.Context, ids []string) ([][]byte, error)
}

var _ KeptFeatures = (*FeatureLog)(nil)
