package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/inference"
)

// RegisterRequest is a new version of a model. Exactly one of ONNX and URI
// is set.
type RegisterRequest struct {
	// ONNX is the model, stored in Redis.
	ONNX []byte
	// URI refers to a model too large to keep in Redis: file:///abs/path
	// (or an absolute path). It is read to check the model and its sha256
	// now, and again by every worker that loads it.
	URI string
	// Signature is the signature.yaml of the model (inference.Signature).
	Signature []byte
	// Profile is the reference profile of the training data (optional,
	// opaque here).
	Profile []byte
	// Metrics are training or holdout metrics (optional).
	Metrics map[string]float64
	// Stage is candidate (the default), or a stage to promote to at once:
	// shadow, canary or production, with Percent for canary and shadow.
	Stage   Stage
	Percent float64
	// Reason is a note carried by the events.
	Reason string
	// Request is the retrain request the version answers (carried by the
	// events; the registered event's evidence is Metrics).
	Request string
}

// Register checks a new version and stores it as the model's next version
// number (1 for a new model). The check parses the signature, loads the
// model on the CPU with ONNX Runtime (which compares its input and output
// tensors with the signature and runs a warm-up batch) and enforces the
// size cap. It returns ErrTooLarge, ErrSignatureMismatch, ErrCorruptModel
// or ErrMissingBlob (an unreadable URI) for a version it refuses. The
// stored version, its blob and the registered event are written in one
// MULTI, published on Channel(name) and emitted; a Stage other than
// candidate is then applied with Promote.
func (r *Registry) Register(ctx context.Context, name string, req RegisterRequest) (*Version, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	stage := req.Stage
	if stage == "" {
		stage = StageCandidate
	}
	if stage == StageArchived {
		return nil, fmt.Errorf("%w: a new version cannot be archived", ErrBadStage)
	}
	if _, err := ParseStage(string(stage)); err != nil {
		return nil, err
	}
	onnx, err := r.requestBlob(req)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	sig, err := inference.ParseSignature(req.Signature)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w: %v", name, ErrSignatureMismatch, err)
	}
	if err := checkProfile(req.Profile, sig); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	if err := r.validate(name, r.nextVersion(ctx, name), onnx, sig); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	sum := sha256.Sum256(onnx)
	v := &Version{
		Model: name, Stage: StageCandidate, SHA256: hex.EncodeToString(sum[:]),
		Size: int64(len(onnx)), URI: req.URI, Signature: req.Signature,
		Profile: req.Profile, Metrics: req.Metrics,
	}
	metrics, err := json.Marshal(req.Metrics)
	if err != nil {
		return nil, fmt.Errorf("model %s: metrics: %w", name, err)
	}
	if err := r.rdb.SAdd(ctx, namesKey, name).Err(); err != nil {
		return nil, fmt.Errorf("registering model %s: %w", name, err)
	}
	var ev Event
	err = r.commit(ctx, name, func(tx *redis.Tx) error {
		seq, err := tx.HGet(ctx, stateKey(name), fSeq).Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		v.Version = strconv.FormatInt(seq+1, 10)
		ev = newEvent(EventRegistered, name, v.Version, StageCandidate)
		ev.SHA256, ev.Reason, ev.Request, ev.Evidence = v.SHA256, req.Reason, req.Request, req.Metrics
		v.Created = ev.Time
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, stateKey(name), fSeq, v.Version, fUpdated, ev.Time.UnixMilli())
			p.HSet(ctx, versionKey(name, v.Version),
				fVersion, v.Version, fStage, string(v.Stage), fSHA256, v.SHA256,
				fSize, v.Size, fURI, v.URI, fSignature, v.Signature, fProfile, v.Profile,
				fMetrics, metrics, fCreated, v.Created.UnixMilli())
			if v.URI == "" {
				p.Set(ctx, blobKey(name, v.Version), onnx, 0)
			}
			p.ZAdd(ctx, versionsKey(name), redis.Z{Score: float64(seq + 1), Member: v.Version})
			r.announce(ctx, p, ev)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registering model %s: %w", name, err)
	}
	r.log.Info("model version registered", "model", name, "version", v.Version, "size", v.Size, "sha256", v.SHA256)
	r.emit(ctx, ev)
	if stage != StageCandidate {
		if _, err := r.Promote(ctx, name, v.Version, stage, PromoteOptions{Percent: req.Percent, Reason: req.Reason, Request: req.Request}); err != nil {
			return v, fmt.Errorf("registered model %s version %s as candidate, but: %w", name, v.Version, err)
		}
		v.Stage = stage
	}
	return v, nil
}

// nextVersion is the number the model's next version will most likely
// get (another registration may take it first), for messages; "the new
// version" when the registry cannot say.
func (r *Registry) nextVersion(ctx context.Context, name string) string {
	seq, err := r.rdb.HGet(ctx, stateKey(name), fSeq).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "(the new version)"
	}
	return strconv.FormatInt(seq+1, 10)
}

// requestBlob returns the model bytes of a request, within the size cap.
func (r *Registry) requestBlob(req RegisterRequest) ([]byte, error) {
	switch {
	case len(req.ONNX) > 0 && req.URI != "":
		return nil, errors.New("registry: give the model bytes or a URI, not both")
	case req.URI != "":
		return readURI(req.URI, r.cfg.MaxModelBytes)
	case len(req.ONNX) == 0:
		return nil, errors.New("registry: no model: give the ONNX bytes or a URI")
	case int64(len(req.ONNX)) > r.cfg.MaxModelBytes:
		return nil, fmt.Errorf("%w: %d bytes, the cap is %d (max_model_bytes)", ErrTooLarge, len(req.ONNX), r.cfg.MaxModelBytes)
	}
	return req.ONNX, nil
}
