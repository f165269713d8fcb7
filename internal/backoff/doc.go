// Package backoff is the one retry delay every loop in sluice waits with: a
// delay that starts at Policy.First and doubles after each failure in a
// row, up to Policy.Max. A loop that keeps its own count asks a Policy for
// the delay after n failures (Delay); a loop that just retries holds a
// Backoff (Wait, Reset). Sleep is a wait that ends early with its context.
package backoff
