package schemas

import (
	"sync"
	"time"
)

// Ids the registry called unknown are remembered for a while, so that a
// producer writing with another registry's ids costs one registry request per
// id and interval, not one per record.
const (
	unknownTTL = 10 * time.Second
	maxUnknown = 4096
)

// unknownIDs remembers ids the registry said do not exist. It is only
// consulted on a codec cache miss. It is safe for concurrent use.
type unknownIDs struct {
	mu    sync.Mutex
	until map[int32]time.Time
}

func (u *unknownIDs) has(id int32, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, ok := u.until[id]
	if ok && now.After(t) {
		delete(u.until, id)
		return false
	}
	return ok
}

func (u *unknownIDs) add(id int32, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.until == nil || len(u.until) >= maxUnknown {
		u.until = make(map[int32]time.Time)
	}
	u.until[id] = now.Add(unknownTTL)
}
