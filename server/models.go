package server

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
)

// model is one model the process serves, shared by every route naming it:
// one Swapper (one set of ONNX Runtime sessions, with its canary and
// shadow) and one registry watcher, so that a promotion, canary or
// rollback swaps every route serving the model at once.
type model struct {
	spec config.Model
	// input is the topic whose latest schema a registry version is checked
	// against: the first route's input topic.
	input   string
	session inference.SessionConfig
	im      *inference.Metrics
	sw      *inference.Swapper
	watcher *registry.Watcher
	why     atomic.Pointer[string] // why no version is loaded, when none is
}

// models builds one model per distinct model name of the routes, in the
// order the routes name them, each with its share of the process's ONNX
// Runtime thread budget and its inference series labelled model.
func models(cfg config.Config, specs []config.RouteSpec, reg prometheus.Registerer) ([]*model, map[string]*model) {
	byName := map[string]*model{}
	var order []*model
	for _, s := range specs {
		if byName[s.Model.Name] == nil {
			m := &model{spec: s.Model, input: s.Pipeline.InputTopic}
			byName[s.Model.Name] = m
			order = append(order, m)
		}
	}
	for _, m := range order {
		m.session = cfg.Inference.Budget(len(order))
		m.im = inference.NewMetrics(prometheus.WrapRegistererWith(prometheus.Labels{"model": m.spec.Name}, reg))
	}
	return order, byName
}

// load loads the model's model_dir version, if it has one, and makes its
// swapper. Without a model_dir and without Redis there is nothing to
// serve. A model that cannot load is an error for the caller to return
// (one implicit route) or to record (routes: the model's routes wait).
func (m *model) load(hasRedis bool, log *slog.Logger) error {
	var loaded *inference.Model
	var err error
	switch {
	case m.spec.Dir != "":
		if loaded, err = LoadModelDir(m.spec, m.session, m.im); err == nil {
			log.Info("model loaded", "model", loaded.Name(), "version", loaded.Version(), "provider", loaded.Provider(),
				"dir", m.spec.Dir, "sessions", m.session.Sessions, "intra_op_threads", m.session.IntraOpThreads)
		}
	case !hasRedis:
		err = noModelError(m.spec.Name, "redis.url is empty too")
	}
	m.sw = inference.NewSwapper(loaded)
	if err != nil {
		m.setWhy(err.Error())
	}
	return err
}

func (m *model) setWhy(why string) { m.why.Store(&why) }

// notLoaded says why the model has no version, or "" when it has one.
func (m *model) notLoaded() string {
	if m.sw.Current() != nil {
		return ""
	}
	if w := m.why.Load(); w != nil {
		return *w
	}
	return "no model version is loaded"
}

// watch builds the model's registry watcher and brings the swapper to the
// registry's versions. It returns firstSync's error: the model has no
// version to serve, and why.
func (m *model) watch(ctx context.Context, cfg config.Config, rdb *redis.Client, client *schemas.Client, w *producers.Writer,
	rm *registry.Metrics, log *slog.Logger) error {
	watcher, err := newWatcher(cfg.Models, m.spec.Name, m.input, m.session, rdb, client, w, m.sw, m.im, rm, log)
	if err != nil {
		return err
	}
	m.watcher = watcher
	if err := firstSync(ctx, cfg.Models, m.spec.Name, watcher, m.sw, rdb, log); err != nil {
		if m.why.Load() == nil || m.spec.Dir == "" { // a model_dir's own error says more
			m.setWhy(err.Error())
		}
		return err
	}
	return nil
}
