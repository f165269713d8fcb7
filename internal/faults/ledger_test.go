package faults

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// ledger is the set of event ids published and acknowledged by the broker,
// in publish order. Safe for concurrent use.
type ledger struct {
	mu  sync.Mutex
	ids []string
	set map[string]bool
}

func newLedger() *ledger { return &ledger{set: map[string]bool{}} }

func (l *ledger) add(ids ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if !l.set[id] {
			l.set[id] = true
			l.ids = append(l.ids, id)
		}
	}
}

func (l *ledger) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ids)
}

// figures are what one run adds up to.
type figures struct {
	Events      int // ids published (acknowledged by the broker)
	Predictions int // prediction records read back
	DeadLetters int // dead-letter records read back
	Lost        int // published ids with neither a prediction nor a dead letter
	Duplicates  int // outputs beyond the first for an id
	Unknown     int // outputs for ids never published
	MaxCopies   int // most outputs for one id
	LostIDs     []string
}

func (f figures) String() string {
	return fmt.Sprintf("events=%d predictions=%d dead_letters=%d lost=%d duplicates=%d (max %d copies of one id) unknown=%d",
		f.Events, f.Predictions, f.DeadLetters, f.Lost, f.Duplicates, f.MaxCopies, f.Unknown)
}

// count sets the outputs read back against the ledger.
func (l *ledger) count(out *outputs) figures {
	l.mu.Lock()
	defer l.mu.Unlock()
	out.mu.Lock()
	defer out.mu.Unlock()
	f := figures{Events: len(l.ids), Predictions: out.preds, DeadLetters: out.dlqs}
	for _, id := range l.ids {
		if out.seen[id] == 0 {
			f.Lost++
			if len(f.LostIDs) < 10 {
				f.LostIDs = append(f.LostIDs, id)
			}
		}
	}
	for id, n := range out.seen {
		if !l.set[id] {
			f.Unknown += n
			continue
		}
		f.MaxCopies = max(f.MaxCopies, n)
		if n > 1 {
			f.Duplicates += n - 1
		}
	}
	return f
}

// check asserts the delivery promise where no bad input was sent: nothing
// lost, no event diverted to the dead-letter topic, every output for an id
// that was published (duplicates are redeliveries of the same events, never
// new ones), and at most maxDup duplicates.
func (f figures) check(t *testing.T, maxDup int) {
	t.Helper()
	f.checkDeadLetters(t, maxDup, 0)
}

// checkDeadLetters is check where exactly deadLetters of the events were
// bad input: that many dead letters, no more.
func (f figures) checkDeadLetters(t *testing.T, maxDup, deadLetters int) {
	t.Helper()
	if f.DeadLetters != deadLetters {
		t.Errorf("%d dead letters, want %d", f.DeadLetters, deadLetters)
	}
	if f.Lost != 0 {
		t.Errorf("%d events lost (first: %s)", f.Lost, strings.Join(f.LostIDs, " "))
	}
	if f.Unknown != 0 {
		t.Errorf("%d outputs for event ids that were never published", f.Unknown)
	}
	if f.Duplicates > maxDup {
		t.Errorf("%d duplicates, want at most %d", f.Duplicates, maxDup)
	}
}
