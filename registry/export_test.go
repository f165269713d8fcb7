package registry

// NoPublish makes r change the registry without announcing it on pub/sub,
// as if every message were lost.
func NoPublish(r *Registry) { r.publish = false }
