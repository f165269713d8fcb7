package testkit

import (
	"context"
	"testing"
	"time"
)

// Run runs a component's Run(ctx) on its own goroutine until the test
// ends; cleanup cancels it and fails the test if Run returns an error or
// has not returned within 20 seconds.
func Run(t testing.TB, run func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return within 20s of its context's end")
		}
	})
}
