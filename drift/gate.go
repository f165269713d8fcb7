package drift

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Admission is what a Gate says about one retrain request.
type Admission int

// Admissions.
const (
	// Admitted: send the request (it is new, or a retry of one admitted).
	Admitted Admission = iota
	// CoolingDown: the version asked for a retrain less than Cooldown ago.
	CoolingDown
	// Capped: the model has sent MaxRequestsPerHour requests in the last
	// hour.
	Capped
)

func (a Admission) String() string {
	switch a {
	case Admitted:
		return "admitted"
	case CoolingDown:
		return "cooldown"
	case Capped:
		return "capped"
	}
	return fmt.Sprintf("admission(%d)", int(a))
}

// Gate decides whether a retrain request may go out, for every sender of a
// model (the drift monitors of all workers, the live-quality service): one
// request per model version per Cooldown, and at most MaxRequestsPerHour
// per model in any hour, so that a model whose new versions keep failing
// cannot start a storm. The state is in Redis (one hash tag per model) and
// each Admit is one atomic script call. It is safe for concurrent use.
type Gate struct {
	rdb      redis.UniversalClient
	cooldown time.Duration
	perHour  int
	timeout  time.Duration
	now      func() time.Time
}

// NewGate returns the gate with cfg's Cooldown, MaxRequestsPerHour and
// RedisTimeout.
func NewGate(rdb redis.UniversalClient, cfg Config) *Gate {
	cfg = cfg.WithDefaults()
	return &Gate{rdb: rdb, cooldown: cfg.Cooldown, perHour: cfg.MaxRequestsPerHour, timeout: cfg.RedisTimeout, now: time.Now}
}

// gateKeys are the cooldown key of a version and the requests key of its
// model, under one hash tag.
func gateKeys(model, version string) []string {
	tag := "sluice:retrain:{" + strings.NewReplacer("{", "_", "}", "_").Replace(model) + "}:"
	return []string{tag + "cooldown:" + version, tag + "requests"}
}

// admitScript: KEYS cooldown (string: the admitted event id) and requests
// (zset: event ids of the last hour, scored by time); ARGV event id,
// cooldown ms, now ms, cap (< 1: none). Returns 0 admitted, 1 cooling
// down, 2 capped.
var admitScript = redis.NewScript(`
local hour = 3600000
local now = tonumber(ARGV[3])
if redis.call("ZSCORE", KEYS[2], ARGV[1]) then return 0 end
if redis.call("GET", KEYS[1]) then return 1 end
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", now - hour)
local cap = tonumber(ARGV[4])
if cap > 0 and redis.call("ZCARD", KEYS[2]) >= cap then return 2 end
redis.call("ZADD", KEYS[2], now, ARGV[1])
redis.call("PEXPIRE", KEYS[2], hour)
local cd = tonumber(ARGV[2])
if cd > 0 then redis.call("SET", KEYS[1], ARGV[1], "PX", cd) end
return 0
`)

// Admit takes the version's cooldown and a slot of the model's hourly cap
// for request eventID, or says why not. Asking again with an admitted
// event id (a retried send) admits it again.
func (g *Gate) Admit(ctx context.Context, model, version, eventID string) (Admission, error) {
	rctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	n, err := admitScript.Run(rctx, g.rdb, gateKeys(model, version), eventID,
		g.cooldown.Milliseconds(), g.now().UnixMilli(), g.perHour).Int()
	if err != nil {
		return 0, fmt.Errorf("taking the retrain cooldown of %s version %s: %w", model, version, err)
	}
	return Admission(n), nil
}
