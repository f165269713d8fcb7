//go:build unix

package schemas

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used, GC workers included.
// On shared, busy machines it measures a benchmark better than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
