package inference

import (
	"runtime"
	"testing"
)

// Budget splits the process's thread budget across the sessions of the
// models it serves, at least one thread each, unless intra_op_threads sets
// every session's.
func TestSessionConfigBudget(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	for _, tt := range []struct {
		name   string
		c      SessionConfig
		models int
		want   int
	}{
		{"one model takes the whole budget", SessionConfig{ThreadBudget: 8}, 1, 8},
		{"four models share it", SessionConfig{ThreadBudget: 8}, 4, 2},
		{"sessions count too", SessionConfig{ThreadBudget: 8, Sessions: 2}, 2, 2},
		{"never below one", SessionConfig{ThreadBudget: 2}, 4, 1},
		{"no budget: GOMAXPROCS", SessionConfig{}, 1, procs},
		{"intra_op_threads wins", SessionConfig{ThreadBudget: 8, IntraOpThreads: 3}, 4, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Budget(tt.models).IntraOpThreads; got != tt.want {
				t.Errorf("Budget(%d) of %+v: %d threads per session, want %d", tt.models, tt.c, got, tt.want)
			}
		})
	}
	if err := (SessionConfig{ThreadBudget: -1}).Validate(); err == nil {
		t.Error("a negative thread_budget is valid")
	}
}
