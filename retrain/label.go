package retrain

import "github.com/sluice-ml/sluice/quality"

// LabelSchema is the Avro schema of a Label (quality.LabelSchema).
const LabelSchema = quality.LabelSchema

// ErrBadLabel is wrapped by the errors of labels that cannot be used.
var ErrBadLabel = quality.ErrBadLabel

// Label is the ground truth of one scored event (quality.Label): the
// retrainer joins it with the features workers kept, package quality with
// the event's predictions.
type Label = quality.Label

// ParseLabel reads a decoded Label record; see quality.ParseLabel.
func ParseLabel(rec map[string]any) (Label, error) { return quality.ParseLabel(rec) }
