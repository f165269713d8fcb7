package quality

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/sluice-ml/sluice/registry"
)

// stateEvery is how often a model's registry state is read again.
const stateEvery = time.Second

// modelInfo is what the service knows of one registered model: its stages
// and its versions' holdout metrics. Only the service's loop uses it.
type modelInfo struct {
	name    string
	state   *registry.State
	read    time.Time
	metrics map[string]map[string]float64 // version → registered metrics
	series  []string                      // versions with metric series, ascending
}

// models caches the registry's view of the models the predictions name.
// Only the service's loop uses it.
type models struct {
	reg     *registry.Registry
	known   map[string]*modelInfo
	unknown map[string]time.Time // names the registry did not know, and when asked
}

func newModels(reg *registry.Registry) *models {
	return &models{reg: reg, known: map[string]*modelInfo{}, unknown: map[string]time.Time{}}
}

// get returns the model's info, reading its state when it is older than
// stateEvery, or nil when the registry does not know the model (asked
// again after a minute) or cannot be read and never was.
func (m *models) get(ctx context.Context, name string, now time.Time) *modelInfo {
	mi := m.known[name]
	if mi == nil {
		if at, ok := m.unknown[name]; ok && now.Sub(at) < time.Minute {
			return nil
		}
		if len(m.unknown) > 1000 {
			clear(m.unknown)
		}
	}
	if mi != nil && now.Sub(mi.read) < stateEvery {
		return mi
	}
	st, err := m.reg.State(ctx, name)
	switch {
	case errors.Is(err, registry.ErrUnknownModel):
		delete(m.known, name)
		m.unknown[name] = now
		return nil
	case err != nil:
		return mi // keep what was known
	}
	if mi == nil {
		if registry.CheckName(name) != nil {
			return nil
		}
		mi = &modelInfo{name: name, metrics: map[string]map[string]float64{}}
		m.known[name] = mi
	}
	mi.state, mi.read = st, now
	return mi
}

// stage is the stage of a version's prediction read from the main
// predictions topic: canary when it is the canary version, else
// production (a version serves the main topic only in those two).
func (mi *modelInfo) stage(version string) string {
	if mi.state != nil && version == mi.state.Canary {
		return string(registry.StageCanary)
	}
	return string(registry.StageProduction)
}

// holdout returns the version's registered holdout AUC and RMSE (NaN when
// it has none), read once per version.
func (m *models) holdout(ctx context.Context, mi *modelInfo, version string) (auc, rmse float64) {
	met, ok := mi.metrics[version]
	if !ok {
		if v, err := m.reg.Version(ctx, mi.name, version); err == nil {
			met = v.Metrics
			mi.metrics[version] = met
		}
	}
	auc, rmse = math.NaN(), math.NaN()
	if v, ok := met["auc"]; ok {
		auc = v
	}
	if v, ok := met["rmse"]; ok {
		rmse = v
	}
	return auc, rmse
}

// track adds version to the versions with series and returns those that
// must go to keep at most max (the lowest version numbers).
func (mi *modelInfo) track(version string, max int) []string {
	if slices.Contains(mi.series, version) {
		return nil
	}
	mi.series = append(mi.series, version)
	slices.SortFunc(mi.series, compareVersions)
	if len(mi.series) <= max {
		return nil
	}
	drop := slices.Clone(mi.series[:len(mi.series)-max])
	mi.series = mi.series[len(mi.series)-max:]
	return drop
}

// compareVersions orders version numbers numerically, others after them
// by text.
func compareVersions(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return x - y
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}
