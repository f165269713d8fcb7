package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/registry"
)

// ProfileFile is the reference profile's name beside model.onnx.
const ProfileFile = "profile.json"

// driftFollower runs one drift monitor for the model version in service
// and, when the swapper serves a new version, switches to a monitor for it
// (with that version's reference profile from the registry).
type driftFollower struct {
	cfg    drift.Config
	dir    string // the route's model_dir: its profile.json
	route  string // the windows' route scope ("" for one implicit route)
	sw     *inference.Swapper
	rdb    *redis.Client
	sink   drift.Sink
	met    *drift.Metrics
	log    *slog.Logger
	models *registry.Registry
	active *drift.Active
}

// Its windows are the route's own (drift.WithRoute) when the process
// serves routes, so that two routes on one model never merge different
// traffic; a config without routes keeps the version's windows.
func newDriftFollower(cfg config.Config, spec config.RouteSpec, sw *inference.Swapper, rdb *redis.Client, sink drift.Sink, active *drift.Active, reg prometheus.Registerer, log *slog.Logger) (*driftFollower, error) {
	if rdb == nil {
		return nil, errors.New("drift.enabled: drift windows are merged in Redis; set redis.url")
	}
	f := &driftFollower{
		cfg: spec.Drift.Config, dir: spec.Model.Dir, sw: sw, rdb: rdb, sink: sink, met: drift.NewMetrics(reg), log: log,
		models: registry.New(rdb, cfg.Models), active: active,
	}
	if !spec.Implicit {
		f.route = spec.Name
	}
	return f, nil
}

// Run follows the served version until ctx ends.
func (f *driftFollower) Run(ctx context.Context) {
	var version string
	var stop context.CancelFunc = func() {}
	done := make(chan struct{})
	close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if m := f.sw.Current(); m != nil && m.Version() != version {
			version = m.Version()
			mon, err := f.monitor(ctx, m)
			switch {
			case err != nil:
				f.log.Warn("drift monitoring off for this version", "model", m.Name(), "version", m.Version(), "err", err)
				f.active.Set(nil)
			case mon == nil:
				f.active.Set(nil)
			default:
				f.log.Info("drift monitoring on", "model", m.Name(), "version", m.Version())
				f.active.Set(mon)
			}
			stop()
			<-done
			if mon != nil {
				mctx, cancel := context.WithCancel(ctx)
				stop, done = cancel, make(chan struct{})
				go func(d chan struct{}) { defer close(d); _ = mon.Run(mctx) }(done)
			}
		}
		select {
		case <-ctx.Done():
			stop()
			<-done
			return
		case <-t.C:
		}
	}
}

// monitor builds the monitor for m from its reference profile: the
// registry's copy for a registered version, else profile.json in model.dir.
// It returns nil, nil when the version has no profile.
func (f *driftFollower) monitor(ctx context.Context, m *inference.Model) (*drift.Monitor, error) {
	var p *drift.Profile
	if v, err := f.models.Version(ctx, m.Name(), m.Version()); err == nil && len(v.Profile) > 0 {
		if p, err = drift.ParseProfile(v.Profile); err != nil {
			return nil, fmt.Errorf("registry profile: %w", err)
		}
	} else if f.dir == "" {
		f.log.Info("drift monitoring off: the model version has no reference profile in the registry", "version", m.Version())
		return nil, nil
	} else {
		path := filepath.Join(f.dir, ProfileFile)
		var lerr error
		p, lerr = drift.LoadProfile(path)
		if errors.Is(lerr, os.ErrNotExist) {
			f.log.Info("drift monitoring off: the model version has no reference profile", "version", m.Version(), "want", path)
			return nil, nil
		}
		if lerr != nil {
			return nil, fmt.Errorf("model.dir: %w", lerr)
		}
	}
	return drift.NewMonitor(f.cfg, m.Name(), m.Version(), p, f.rdb, f.sink,
		drift.WithMetrics(f.met), drift.WithLogger(f.log), drift.WithRoute(f.route))
}
