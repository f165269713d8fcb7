package pipeline

import (
	"context"

	"github.com/sluice-ml/sluice/schemas"
)

// Decoder reads a framed record into its fields (schemas.Fields: names in
// writer-schema order, shared per schema, and the record's values) and
// returns the writer schema's id. A *schemas.DecodeError dead-letters the
// record under its class; any other error means the schema registry could
// not be asked, and the decode is retried. schemas.Decoder implements it.
// Called from every decode worker at once.
type Decoder interface {
	DecodeFields(ctx context.Context, framed []byte) (schemas.Fields, int32, error)
}
