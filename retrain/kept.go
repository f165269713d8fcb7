package retrain

import (
	"context"

	"github.com/sluice-ml/sluice/featurelog"
)

// KeptFeatures is where the retrainer and Export find the inputs workers
// kept for retraining (featurelog.Log on Redis): the framed value of each
// event id, nil where none is kept. It must be safe for concurrent use.
type KeptFeatures interface {
	Lookup(ctx context.Context, ids []string) ([][]byte, error)
}

var _ KeptFeatures = (*featurelog.Log)(nil)
