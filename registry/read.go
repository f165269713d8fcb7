package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Models returns the names of every registered model, sorted.
func (r *Registry) Models(ctx context.Context) ([]string, error) {
	names, err := r.rdb.SMembers(ctx, namesKey).Result()
	if err != nil {
		return nil, fmt.Errorf("listing models: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

// State returns the model's current stage assignment and production
// history. It returns ErrUnknownModel for a model never registered.
func (r *Registry) State(ctx context.Context, name string) (*State, error) {
	var hc *redis.MapStringStringCmd
	var lc *redis.StringSliceCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		hc = p.HGetAll(ctx, stateKey(name))
		lc = p.LRange(ctx, historyKey(name), 0, -1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading model %s: %w", name, err)
	}
	return parseState(name, hc.Val(), lc.Val())
}

func parseState(name string, h map[string]string, hist []string) (*State, error) {
	if h[fSeq] == "" {
		return nil, fmt.Errorf("%w %q", ErrUnknownModel, name)
	}
	st := &State{
		Model: name, Production: h[fProduction], Canary: h[fCanary], Shadow: h[fShadow],
		Latest: h[fSeq], History: hist,
	}
	st.CanaryPercent, _ = strconv.ParseFloat(h[fCanaryPercent], 64)
	st.ShadowFraction, _ = strconv.ParseFloat(h[fShadowFraction], 64)
	if ms, err := strconv.ParseInt(h[fUpdated], 10, 64); err == nil {
		st.Updated = time.UnixMilli(ms).UTC()
	}
	return st, nil
}

// Version returns one version's metadata (not its blob). It returns
// ErrUnknownModel or ErrUnknownVersion when there is no such thing.
func (r *Registry) Version(ctx context.Context, name, version string) (*Version, error) {
	h, err := r.rdb.HGetAll(ctx, versionKey(name, version)).Result()
	if err != nil {
		return nil, fmt.Errorf("reading model %s version %s: %w", name, version, err)
	}
	if len(h) == 0 {
		return nil, r.unknown(ctx, name, version)
	}
	return parseVersion(name, h)
}

// unknown tells an unknown model from an unknown version of a known one.
func (r *Registry) unknown(ctx context.Context, name, version string) error {
	n, err := r.rdb.Exists(ctx, stateKey(name)).Result()
	if err == nil && n == 0 {
		return fmt.Errorf("%w %q", ErrUnknownModel, name)
	}
	return fmt.Errorf("%w: model %s has no version %q", ErrUnknownVersion, name, version)
}

// Versions returns the metadata of every version of the model, oldest
// first.
func (r *Registry) Versions(ctx context.Context, name string) ([]*Version, error) {
	vs, err := r.rdb.ZRange(ctx, versionsKey(name), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("listing versions of %s: %w", name, err)
	}
	if len(vs) == 0 {
		return nil, r.unknown(ctx, name, "")
	}
	cmds := make([]*redis.MapStringStringCmd, len(vs))
	if _, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, v := range vs {
			cmds[i] = p.HGetAll(ctx, versionKey(name, v))
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reading versions of %s: %w", name, err)
	}
	out := make([]*Version, 0, len(vs))
	for _, c := range cmds {
		v, err := parseVersion(name, c.Val())
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func parseVersion(name string, h map[string]string) (*Version, error) {
	v := &Version{
		Model: name, Version: h[fVersion], Stage: Stage(h[fStage]), SHA256: h[fSHA256],
		URI: h[fURI], Signature: []byte(h[fSignature]), Profile: []byte(h[fProfile]),
		Refused: h[fRefused],
	}
	if v.Version == "" {
		return nil, fmt.Errorf("%w: model %s has a version record without a number", ErrUnknownVersion, name)
	}
	var err error
	if v.Size, err = strconv.ParseInt(h[fSize], 10, 64); err != nil {
		return nil, fmt.Errorf("model %s version %s: bad size %q", name, v.Version, h[fSize])
	}
	if ms, err := strconv.ParseInt(h[fCreated], 10, 64); err == nil {
		v.Created = time.UnixMilli(ms).UTC()
	}
	if m := h[fMetrics]; m != "" {
		if err := json.Unmarshal([]byte(m), &v.Metrics); err != nil {
			return nil, fmt.Errorf("model %s version %s: metrics: %w", name, v.Version, err)
		}
	}
	return v, nil
}
