package inference

import (
	"runtime"
	"testing"
)

// Budget splits the process's thread budget across the sessions of the
// models it serves, at least one thread each, unless intra_op_threads sets
// every session's; unset, sessions is two where a model's share is two
// threads or more and the provider is not cuda.
func TestSessionConfigBudget(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	for _, tt := range []struct {
		name             string
		c                SessionConfig
		models           int
		sessions, thread int
	}{
		{"one model: two sessions share the budget", SessionConfig{ThreadBudget: 8}, 1, 2, 4},
		{"four models share it", SessionConfig{ThreadBudget: 8}, 4, 2, 1},
		{"a share of one thread: one session", SessionConfig{ThreadBudget: 8}, 8, 1, 1},
		{"sessions set", SessionConfig{ThreadBudget: 8, Sessions: 4}, 2, 4, 1},
		{"one session set takes the share", SessionConfig{ThreadBudget: 8, Sessions: 1}, 1, 1, 8},
		{"never below one", SessionConfig{ThreadBudget: 2}, 4, 1, 1},
		{"no budget: GOMAXPROCS", SessionConfig{Sessions: 1}, 1, 1, procs},
		{"intra_op_threads wins, one session", SessionConfig{ThreadBudget: 8, IntraOpThreads: 3}, 4, 1, 3},
		{"cuda: one session", SessionConfig{ThreadBudget: 8, Provider: ProviderCUDA}, 1, 1, 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.Budget(tt.models)
			if got.Sessions != tt.sessions || got.IntraOpThreads != tt.thread {
				t.Errorf("Budget(%d) of %+v: %d sessions of %d threads, want %d of %d", tt.models, tt.c, got.Sessions, got.IntraOpThreads, tt.sessions, tt.thread)
			}
			if again := got.Budget(tt.models); again.Sessions != got.Sessions || again.IntraOpThreads != got.IntraOpThreads {
				t.Errorf("Budget is not idempotent: %+v then %+v", got, again)
			}
		})
	}
	if err := (SessionConfig{ThreadBudget: -1}).Validate(); err == nil {
		t.Error("a negative thread_budget is valid")
	}
}
