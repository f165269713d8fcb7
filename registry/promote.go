package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/drift"
)

// DefaultPercent is the canary's share of keys, and the shadow's share of
// events, when a promotion does not give one.
const DefaultPercent = 10

// PromoteOptions are the optional parts of a promotion.
type PromoteOptions struct {
	// Percent is, for canary, the percentage of keys it serves; for shadow,
	// the percentage of events it scores. 0 is DefaultPercent.
	Percent float64
	// Reason is a note carried by the event.
	Reason string
	// Request is the retrain request the change answers, and Evidence the
	// numbers it was decided on; both are carried by the event.
	Request  string
	Evidence map[string]float64
}

// Promote moves a version to a stage, atomically with what that displaces:
//   - production: the previous production version becomes archived and the
//     version is pushed on the history Rollback uses; if it was the canary
//     or the shadow, that slot is cleared;
//   - canary or shadow (beside an existing production version): the
//     previous canary or shadow becomes archived; promoting the current
//     canary or shadow again only changes its percentage;
//   - archived: retires a canary, shadow or candidate (not production: use
//     Rollback or promote another version).
//
// The change is published on Channel(name) and emitted. It returns the
// event, or ErrUnknownModel, ErrUnknownVersion or ErrBadStage.
func (r *Registry) Promote(ctx context.Context, name, version string, to Stage, opt PromoteOptions) (Event, error) {
	if _, err := ParseStage(string(to)); err != nil {
		return Event{}, err
	}
	pct := opt.Percent
	if pct == 0 {
		pct = DefaultPercent
	}
	if (to == StageCanary || to == StageShadow) && !(pct > 0 && pct <= 100) {
		return Event{}, fmt.Errorf("registry: %s percent %v is not in (0, 100]", to, opt.Percent)
	}
	var ev Event
	err := r.commit(ctx, name, func(tx *redis.Tx) error {
		st, cur, err := r.readForChange(ctx, tx, name, version)
		if err != nil {
			return err
		}
		ev = newEvent(EventPromoted, name, version, to)
		ev.Reason, ev.Request, ev.Evidence = opt.Reason, opt.Request, opt.Evidence
		stateSet := []any{fUpdated, ev.Time.UnixMilli()}
		archive := []string{}
		clear := func(v string) { // v leaves the canary or shadow slot
			if v == st.Canary && v != "" {
				stateSet = append(stateSet, fCanary, "", fCanaryPercent, "")
			}
			if v == st.Shadow && v != "" {
				stateSet = append(stateSet, fShadow, "", fShadowFraction, "")
			}
		}
		pushHistory := false
		switch to {
		case StageCandidate:
			return fmt.Errorf("%w: a version cannot go back to candidate; archive it instead", ErrBadStage)
		case StageProduction:
			if cur == StageProduction {
				return fmt.Errorf("%w: model %s version %s is already production", ErrBadStage, name, version)
			}
			ev.Previous = st.Production
			if st.Production != "" {
				archive = append(archive, st.Production)
			}
			clear(version)
			stateSet = append(stateSet, fProduction, version)
			pushHistory = true
		case StageCanary, StageShadow:
			if st.Production == "" {
				return fmt.Errorf("%w: model %s has no production version for a %s to run beside", ErrBadStage, name, to)
			}
			if cur == StageProduction {
				return fmt.Errorf("%w: model %s version %s is production", ErrBadStage, name, version)
			}
			slot, share, value := fCanary, fCanaryPercent, pct
			prev := st.Canary
			if to == StageShadow {
				slot, share, value, prev = fShadow, fShadowFraction, pct/100, st.Shadow
			}
			ev.Previous, ev.Percent = prev, pct
			if prev != "" && prev != version {
				archive = append(archive, prev)
			}
			clear(version)
			stateSet = append(stateSet, slot, version, share, strconv.FormatFloat(value, 'g', -1, 64))
		case StageArchived:
			if cur == StageProduction {
				return fmt.Errorf("%w: model %s version %s is production: roll back or promote another version", ErrBadStage, name, version)
			}
			clear(version)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, stateKey(name), stateSet...)
			for _, v := range archive {
				p.HSet(ctx, versionKey(name, v), fStage, string(StageArchived))
			}
			p.HSet(ctx, versionKey(name, version), fStage, string(to))
			if pushHistory {
				p.RPush(ctx, historyKey(name), version)
				p.LTrim(ctx, historyKey(name), -historyLen, -1)
			}
			r.announce(ctx, p, ev)
			return nil
		})
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("promoting model %s version %s to %s: %w", name, version, to, err)
	}
	r.log.Info("model version promoted", "model", name, "version", version, "stage", to, "previous", ev.Previous)
	if to == StageProduction {
		r.resetDecision(ctx, name, version)
	}
	r.emit(ctx, ev)
	return ev, nil
}

// resetDecision clears the retrain decision (drift's k-of-m history) of a
// version taking production: windows it saw as a canary, or before it was
// rolled away from, must not count towards its next request. A failure is
// logged: at worst a request comes a window early.
func (r *Registry) resetDecision(ctx context.Context, name, version string) {
	if err := drift.ResetDecision(ctx, r.rdb, name, version); err != nil {
		r.log.Warn("resetting the retrain decision", "model", name, "version", version, "err", err)
	}
}

// Rollback makes the production version before the current one production
// again and archives the current one, atomically; the history loses its
// last entry, so a second Rollback goes one further back. It returns the
// event (Version is the restored version, Previous the one rolled back
// from), or ErrUnknownModel or ErrNoPrevious.
func (r *Registry) Rollback(ctx context.Context, name, reason string) (Event, error) {
	return r.RollbackWith(ctx, name, PromoteOptions{Reason: reason})
}

// RollbackWith is Rollback with the event's reason, request and evidence
// taken from opt (its Percent is ignored).
func (r *Registry) RollbackWith(ctx context.Context, name string, opt PromoteOptions) (Event, error) {
	var ev Event
	err := r.commit(ctx, name, func(tx *redis.Tx) error {
		st, _, err := r.readForChange(ctx, tx, name, "")
		if err != nil {
			return err
		}
		h := st.History
		if st.Production == "" || len(h) < 2 || h[len(h)-1] != st.Production {
			return fmt.Errorf("%w: model %s (production %q, history %v)", ErrNoPrevious, name, st.Production, h)
		}
		back := h[len(h)-2]
		ev = newEvent(EventRolledBack, name, back, StageProduction)
		ev.Previous, ev.Reason, ev.Request, ev.Evidence = st.Production, opt.Reason, opt.Request, opt.Evidence
		stateSet := []any{fUpdated, ev.Time.UnixMilli(), fProduction, back}
		if back == st.Canary {
			stateSet = append(stateSet, fCanary, "", fCanaryPercent, "")
		}
		if back == st.Shadow {
			stateSet = append(stateSet, fShadow, "", fShadowFraction, "")
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, stateKey(name), stateSet...)
			p.HSet(ctx, versionKey(name, st.Production), fStage, string(StageArchived))
			p.HSet(ctx, versionKey(name, back), fStage, string(StageProduction))
			p.RPop(ctx, historyKey(name))
			r.announce(ctx, p, ev)
			return nil
		})
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("rolling back model %s: %w", name, err)
	}
	r.log.Info("model rolled back", "model", name, "version", ev.Version, "from", ev.Previous)
	r.resetDecision(ctx, name, ev.Version)
	r.emit(ctx, ev)
	return ev, nil
}

// readForChange reads the model's state and, when version is set, that
// version's stage, through the watching tx.
func (r *Registry) readForChange(ctx context.Context, tx *redis.Tx, name, version string) (*State, Stage, error) {
	h, err := tx.HGetAll(ctx, stateKey(name)).Result()
	if err != nil {
		return nil, "", err
	}
	hist, err := tx.LRange(ctx, historyKey(name), 0, -1).Result()
	if err != nil {
		return nil, "", err
	}
	st, err := parseState(name, h, hist)
	if err != nil || version == "" {
		return st, "", err
	}
	stage, err := tx.HGet(ctx, versionKey(name, version), fStage).Result()
	if errors.Is(err, redis.Nil) {
		return nil, "", fmt.Errorf("%w: model %s has no version %q (latest is %s)", ErrUnknownVersion, name, version, st.Latest)
	}
	if err != nil {
		return nil, "", err
	}
	return st, Stage(stage), nil
}
