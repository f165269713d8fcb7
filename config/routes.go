package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/keyerr"
	"github.com/sluice-ml/sluice/pipeline"
)

// Route is one entry of sluice.yaml's routes: events read from InputTopic
// by consumer group Group are scored by Model and written to OutputTopic.
// Every zero field takes what the top-level keys say (pipeline.*,
// drift.*, model.*), except the topics and the group, which are the
// route's own (see Effective).
type Route struct {
	// Name identifies the route in metrics (the route label), /readyz, the
	// status page and logs: lowercase letters, digits, '-', '_' and '.'.
	Name string `yaml:"name"`
	// InputTopic is where the route reads feature events (required).
	InputTopic string `yaml:"input_topic"`
	// OutputTopic receives one Prediction per event (required).
	OutputTopic string `yaml:"output_topic"`
	// DLQTopic receives the events that cannot be read or scored (default
	// <input_topic>.dlq; routes on one input topic share it, and each dead
	// letter's headers name its consumer group).
	DLQTopic string `yaml:"dlq_topic"`
	// ShadowTopic receives a shadow version's predictions (default
	// <output_topic>.shadow).
	ShadowTopic string `yaml:"shadow_topic"`
	// Group is the route's consumer group (default sluice-<name>).
	Group string `yaml:"group"`
	// Model is the name of the model the route serves (default model.name,
	// with model.version and model.dir). Routes naming one model share its
	// ONNX Runtime sessions and its hot swaps.
	Model string `yaml:"model"`
	// ModelDir holds model.onnx and signature.yaml for Model (empty: the
	// model registry's production version of Model).
	ModelDir string `yaml:"model_dir"`
	// ModelVersion labels a ModelDir model (default model.version).
	ModelVersion string `yaml:"model_version"`
	// Optional routes do not hold the process's readiness: /readyz is 200
	// when every other route is ready.
	Optional bool `yaml:"optional"`
	// MaxInFlight overrides pipeline.max_in_flight.
	MaxInFlight int `yaml:"max_in_flight"`
	// Batch overrides pipeline.batch, key by key.
	Batch inference.BatchConfig `yaml:"batch"`
	// Fields overrides pipeline.fields, key by key.
	Fields pipeline.Fields `yaml:"fields"`
	// Drift overrides drift.*, key by key.
	Drift RouteDrift `yaml:"drift"`
}

// RouteDrift is a route's drift overrides: Enabled, when set, replaces
// drift.enabled; each non-zero key of Config replaces drift's.
type RouteDrift struct {
	Enabled      *bool `yaml:"enabled"`
	drift.Config `yaml:",inline"`
}

// DefaultRouteName names the one route of a config without routes.
const DefaultRouteName = "default"

// RouteSpec is one route as the process serves it: every key resolved.
type RouteSpec struct {
	// Name is the route's name (DefaultRouteName for a config without
	// routes).
	Name string
	// Implicit is set for the one route of a config without routes, built
	// from the top-level keys.
	Implicit bool
	// Optional routes do not hold the process's readiness.
	Optional bool
	// Model is the model served: name, version (of a Dir model) and dir.
	Model Model
	// Pipeline is the route's pipeline config, defaults applied.
	Pipeline pipeline.Config
	// Drift is the route's drift config.
	Drift Drift
}

var routeNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// Effective returns the routes the process serves: one per entry of
// routes, or, without routes, one named DefaultRouteName built from
// pipeline.*, model.* and drift.* as they are. A route starts from the
// top-level pipeline (its batch, fields, in-flight cap, commit interval,
// readiness, ...), model and drift keys, and replaces the keys it sets.
func (c Config) Effective() []RouteSpec {
	if len(c.Routes) == 0 {
		return []RouteSpec{{Name: DefaultRouteName, Implicit: true, Model: c.Model, Pipeline: c.Pipeline.WithDefaults(), Drift: c.Drift}}
	}
	out := make([]RouteSpec, len(c.Routes))
	for i, r := range c.Routes {
		p := c.Pipeline
		p.InputTopic, p.OutputTopic, p.DLQTopic, p.ShadowTopic, p.Group = r.InputTopic, r.OutputTopic, r.DLQTopic, r.ShadowTopic, r.Group
		if p.ShadowTopic == "" && p.OutputTopic != "" {
			p.ShadowTopic = p.OutputTopic + ".shadow"
		}
		if p.Group == "" {
			p.Group = "sluice-" + r.Name
		}
		if r.MaxInFlight != 0 {
			p.MaxInFlight = r.MaxInFlight
		}
		overlay(reflect.ValueOf(&p.Batch).Elem(), reflect.ValueOf(r.Batch))
		overlay(reflect.ValueOf(&p.Fields).Elem(), reflect.ValueOf(r.Fields))
		m := c.Model
		if r.Model != "" && r.Model != c.Model.Name {
			m = Model{Name: r.Model, Version: c.Model.Version, Dir: r.ModelDir}
		} else if r.ModelDir != "" {
			m.Dir = r.ModelDir
		}
		if r.ModelVersion != "" {
			m.Version = r.ModelVersion
		}
		d := c.Drift
		if r.Drift.Enabled != nil {
			d.Enabled = *r.Drift.Enabled
		}
		overlay(reflect.ValueOf(&d.Config).Elem(), reflect.ValueOf(r.Drift.Config))
		// Topics and group left empty stay empty (Validate names them);
		// WithDefaults would fill them with the single route's defaults.
		in, outT, g := p.InputTopic, p.OutputTopic, p.Group
		p = p.WithDefaults()
		p.InputTopic, p.OutputTopic, p.Group = in, outT, g
		if r.DLQTopic == "" {
			p.DLQTopic = in + pipeline.DLQSuffix
		}
		out[i] = RouteSpec{Name: r.Name, Optional: r.Optional, Model: m, Pipeline: p, Drift: d}
	}
	return out
}

// overlay sets every field of dst (a struct) to src's where src's is not
// zero, field by field through nested structs.
func overlay(dst, src reflect.Value) {
	for i := 0; i < src.NumField(); i++ {
		f := src.Field(i)
		switch {
		case !dst.Type().Field(i).IsExported():
		case f.Kind() == reflect.Struct && f.Type() != durationType:
			overlay(dst.Field(i), f)
		case !f.IsZero():
			dst.Field(i).Set(f)
		}
	}
}

// routeKeys are the route keys a pipeline.Config error may name: the
// others are top-level only, and their errors are named there.
var routeKeys = []string{"input_topic", "output_topic", "dlq_topic", "shadow_topic", "group", "max_in_flight", "batch.", "fields."}

// validateRoutes reports bad routes, each error naming routes[i].key:
// missing or bad names and topics, a name used twice, two routes reading
// one topic in one group, a model served from two places, and the
// pipeline and drift keys a route overrides.
func (c Config) validateRoutes(l *keyerr.List) {
	if len(c.Routes) == 0 {
		return
	}
	// The single route's keys mean nothing beside routes: a flag or a
	// variable setting one would be silently ignored.
	d := pipeline.DefaultConfig()
	for _, k := range []struct{ key, got, def string }{
		{"input_topic", c.Pipeline.InputTopic, d.InputTopic}, {"output_topic", c.Pipeline.OutputTopic, d.OutputTopic},
		{"dlq_topic", c.Pipeline.DLQTopic, ""}, {"shadow_topic", c.Pipeline.ShadowTopic, d.ShadowTopic}, {"group", c.Pipeline.Group, d.Group},
	} {
		l.Check(k.got == k.def, "pipeline."+k.key, "is not used with routes (each route names its own: routes[].%s), got %q", k.key, k.got)
	}
	names := map[string]int{}
	reads := map[[2]string]int{}
	models := map[string]int{}
	specs := c.Effective()
	for i, r := range c.Routes {
		key := fmt.Sprintf("routes[%d]", i)
		s := specs[i]
		l.Check(routeNameRE.MatchString(r.Name), key+".name", "%q is not a route name (lowercase letters, digits, '-', '_', '.'; up to 63)", r.Name)
		if j, dup := names[r.Name]; dup && r.Name != "" {
			l.Check(false, key+".name", "%q is routes[%d]'s name too", r.Name, j)
		} else {
			names[r.Name] = i
		}
		l.Check(r.InputTopic != "", key+".input_topic", "must not be empty")
		l.Check(r.OutputTopic != "", key+".output_topic", "must not be empty")
		read := [2]string{s.Pipeline.InputTopic, s.Pipeline.Group}
		if j, dup := reads[read]; dup && r.InputTopic != "" {
			l.Check(false, key+".group", "routes[%d] reads %s in group %q too: two routes on one topic need different groups", j, read[0], read[1])
		} else {
			reads[read] = i
		}
		l.Check(s.Model.Name != "", key+".model", "must not be empty")
		if j, seen := models[s.Model.Name]; seen {
			o := specs[j].Model
			l.Check(o.Dir == s.Model.Dir, key+".model_dir", "model %s is served from %q by routes[%d]: routes on one model share it, got %q", s.Model.Name, o.Dir, j, s.Model.Dir)
			l.Check(o.Version == s.Model.Version, key+".model_version", "model %s is version %q on routes[%d], got %q", s.Model.Name, o.Version, j, s.Model.Version)
		} else {
			models[s.Model.Name] = i
		}
		if r.InputTopic != "" && r.OutputTopic != "" {
			l.Add("", keyerr.Map(s.Pipeline.Validate(), func(k string) (string, bool) {
				k = strings.TrimPrefix(k, "pipeline.")
				for _, rk := range routeKeys {
					if k == rk || strings.HasSuffix(rk, ".") && strings.HasPrefix(k, rk) {
						return key + "." + k, true
					}
				}
				return "", false
			}))
		}
		if s.Drift.Enabled {
			l.Add("", keyerr.Map(s.Drift.Config.Validate(), func(k string) (string, bool) { return key + "." + k, true }))
		}
	}
}

// RouteKeys lists every key of route i as it is served, with its value,
// under routes[i] ("default" for a config without routes), for `sluice
// config`.
func (c Config) RouteKeys() [][2]string {
	var out [][2]string
	for i, s := range c.Effective() {
		v := routeView{
			Name: s.Name, InputTopic: s.Pipeline.InputTopic, OutputTopic: s.Pipeline.OutputTopic,
			DLQTopic: s.Pipeline.DLQTopic, ShadowTopic: s.Pipeline.ShadowTopic, Group: s.Pipeline.Group,
			Model: s.Model.Name, ModelVersion: s.Model.Version, ModelDir: s.Model.Dir, Optional: s.Optional,
			MaxInFlight: s.Pipeline.MaxInFlight, Batch: s.Pipeline.Batch, Fields: s.Pipeline.Fields, Drift: s.Drift,
		}
		walk(reflect.ValueOf(&v).Elem(), fmt.Sprintf("routes[%d]", i), func(k string, f reflect.Value) {
			out = append(out, [2]string{k, RedactURL(format(f))})
		})
	}
	return out
}

// routeView is a route's keys as `sluice config` prints them.
type routeView struct {
	Name         string                `yaml:"name"`
	InputTopic   string                `yaml:"input_topic"`
	OutputTopic  string                `yaml:"output_topic"`
	DLQTopic     string                `yaml:"dlq_topic"`
	ShadowTopic  string                `yaml:"shadow_topic"`
	Group        string                `yaml:"group"`
	Model        string                `yaml:"model"`
	ModelVersion string                `yaml:"model_version"`
	ModelDir     string                `yaml:"model_dir"`
	Optional     bool                  `yaml:"optional"`
	MaxInFlight  int                   `yaml:"max_in_flight"`
	Batch        inference.BatchConfig `yaml:"batch"`
	Fields       pipeline.Fields       `yaml:"fields"`
	Drift        Drift                 `yaml:"drift"`
}
