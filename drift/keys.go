package drift

import "strings"

// keys are the Redis keys of one model version. All of them share the
// hash tag {model:version}, so the flush script may touch them together on
// a Redis Cluster. The retrain decision's history is prefix+Series (see
// Decision); the cooldown and the hourly cap are the Gate's, per model.
type keys struct {
	prefix string // sluice:drift:{model:version}:
	state  string // hash: epoch, seq, fp of the open window: id, start, events
	closed string // zset: closed windows awaiting evaluation, scored by close time (ms)
}

func newKeys(model, version string) keys { return newRouteKeys(model, version, "") }

// newRouteKeys are the window keys of one route's traffic to a model
// version: sluice:drift:{model:version}:r:<route>: (route "" is the keys
// of newKeys). They keep the version's hash tag.
func newRouteKeys(model, version, route string) keys {
	tag := strings.NewReplacer("{", "_", "}", "_").Replace(model + ":" + version)
	p := "sluice:drift:{" + tag + "}:"
	if route != "" {
		p += "r:" + route + ":"
	}
	return keys{
		prefix: p,
		state:  p + "state",
		closed: p + "closed",
	}
}

// window is the hash holding the counts of window id: c:<worker>, each
// worker's bin counts (comma-separated, in layout order), wk:<worker>, its
// events, and n, lost, inc, seq, start, last, end and fp.
func (k keys) window(id string) string { return k.prefix + "w:" + id }

// lock is the close lock of window id: held while a worker evaluates it,
// then kept as a done marker until it expires.
func (k keys) lock(id string) string { return k.prefix + "lock:" + id }
