package server

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sluice-ml/sluice/admin"
	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/security"
	"github.com/sluice-ml/sluice/worker"
)

// CondRouteFailed is the condition of a route whose worker stopped with
// an error while the process went on serving its other routes.
const CondRouteFailed = "route_failed"

// route is one route the process serves: its own worker (group reader,
// tracker, batcher, writer, commits, dead letters), drift tap and drift
// follower, on the model it shares with the routes naming the same one.
type route struct {
	spec   config.RouteSpec
	model  *model
	wk     *worker.Worker
	active *drift.Active
	drifts *driftFollower
	log    *slog.Logger
	// started is set once the worker runs: a route waits for its model's
	// first version before it joins its group, so that the group's other
	// members keep its partitions meanwhile.
	started atomic.Bool
	failed  atomic.Pointer[error]
}

// run waits until the route's model has a version, then runs the worker
// until ctx ends. A route that never started leaves its group untouched.
func (r *route) run(ctx context.Context) error {
	if r.model.sw.Current() == nil {
		r.log.Warn("route waits for its model", "model", r.model.spec.Name, "why", r.model.notLoaded())
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for r.model.sw.Current() == nil {
			select {
			case <-ctx.Done():
				return r.wk.Close()
			case <-t.C:
			}
		}
		r.log.Info("route's model loaded; starting", "model", r.model.spec.Name, "version", r.model.sw.Current().Version())
	}
	r.started.Store(true)
	err := r.wk.Run(ctx)
	if err != nil && !errors.Is(err, context.Canceled) {
		r.failed.Store(&err)
	}
	return err
}

// readiness is the route's standing for /readyz: the worker's conditions,
// or, before it starts, why its model has no version.
func (r *route) readiness(red *security.Redactor) admin.Route {
	out := admin.Route{Name: r.spec.Name, Optional: r.spec.Optional}
	add := func(name, detail string) {
		out.Conditions = append(out.Conditions, admin.Condition{Name: name, Detail: red.String(detail)})
	}
	if err := r.failed.Load(); err != nil {
		add(CondRouteFailed, (*err).Error())
		return out
	}
	if !r.started.Load() {
		if why := r.model.notLoaded(); why != "" {
			add(pipeline.CondModelNotLoaded, why)
		} else {
			add(pipeline.CondNotRunning, "the route is starting")
		}
		return out
	}
	for _, c := range r.wk.NotReady() {
		add(c.Name, c.Detail)
	}
	return out
}
