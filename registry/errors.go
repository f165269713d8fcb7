package registry

import "errors"

// Errors the registry returns, wrapped with the model and version they
// concern; test with errors.Is.
var (
	// ErrUnknownModel: no version of the model was ever registered.
	ErrUnknownModel = errors.New("registry: unknown model")
	// ErrUnknownVersion: the model has no such version.
	ErrUnknownVersion = errors.New("registry: unknown version")
	// ErrChecksum: the blob's sha256 or size is not what was registered.
	ErrChecksum = errors.New("registry: checksum mismatch")
	// ErrTooLarge: the model is over the configured size cap.
	ErrTooLarge = errors.New("registry: model too large")
	// ErrMissingBlob: the version's blob (or the file it refers to) is gone.
	ErrMissingBlob = errors.New("registry: model blob missing")
	// ErrCorruptModel: ONNX Runtime cannot read the model.
	ErrCorruptModel = errors.New("registry: model does not load")
	// ErrSignatureMismatch: the signature is invalid or does not match the
	// model's inputs and outputs.
	ErrSignatureMismatch = errors.New("registry: signature does not match the model")
	// ErrSchemaMismatch: the signature reads fields the input schema lacks,
	// or reads them as a type they are not.
	ErrSchemaMismatch = errors.New("registry: signature does not match the input schema")
	// ErrBadStage: the stage is unknown, or the change is not allowed from
	// the version's current stage.
	ErrBadStage = errors.New("registry: bad stage")
	// ErrNoPrevious: rollback needs an earlier production version.
	ErrNoPrevious = errors.New("registry: no previous production version")
	// ErrConflict: the model kept changing under a change; try again.
	ErrConflict = errors.New("registry: concurrent change, try again")
)

// ErrNoInputSchema is what a WatcherConfig.InputSchema returns (wrapped)
// when the input topic has no schema registered yet: a version waits
// instead of being refused.
var ErrNoInputSchema = errors.New("registry: no input schema registered yet")
