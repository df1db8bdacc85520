//go:build unix

package imageproc

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time (user + system) this process has used: on a
// shared machine it moves less with other load than wall time does.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
