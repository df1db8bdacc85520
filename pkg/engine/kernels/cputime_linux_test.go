//go:build linux

package kernels

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threadCPUTime returns the CPU time consumed by the calling OS thread.
func threadCPUTime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// benchCPU runs fn b.N times on a locked OS thread and reports, besides
// wall time, GFLOP/s over the thread's own CPU time ("GFLOP/s-cpu"): on a
// machine shared with other work, that figure is the stable one for a
// single-threaded kernel.
func benchCPU(b *testing.B, flops float64, fn func()) { benchCPUUnit(b, flops, "GFLOP/s", fn) }

func benchCPUUnit(b *testing.B, flops float64, unit string, fn func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fn()
	t0 := threadCPUTime()
	b.ResetTimer()
	for b.Loop() {
		fn()
	}
	cpu := threadCPUTime() - t0
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, unit)
	if cpu > 0 {
		b.ReportMetric(flops*float64(b.N)/cpu.Seconds()/1e9, unit+"-cpu")
	}
}

// processCPUTime returns the CPU time consumed by the whole process.
func processCPUTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchParallel runs fn b.N times and reports GFLOP/s over wall time and,
// as "GFLOP/s-core", over the CPU time of the whole process divided by
// the thread count: the per-core rate while the workers were on a core.
// Time spent spinning at a barrier for a descheduled peer counts as
// work, so on a loaded machine this figure errs low, never high.
func benchParallel(b *testing.B, flops float64, fn func()) {
	fn()
	t0 := processCPUTime()
	b.ResetTimer()
	for b.Loop() {
		fn()
	}
	cpu := processCPUTime() - t0
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(flops*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/s-core")
	}
}
