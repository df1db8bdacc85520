package kernels

import (
	"runtime"
	"time"
)

// fmaPeakFlopsPerIter is the float32 work of one fmaPeakLoop iteration:
// 24 FMAs × 8 lanes × 2 flops.
const fmaPeakFlopsPerIter = 24 * 8 * 2

// MeasureFMAPeak runs a register-only loop of independent AVX2 FMAs on one
// core for about d and returns the best float32 GFLOP/s seen over slices of
// it: the machine's practical per-core peak, which GEMM efficiency is
// quoted against. It returns 0 on CPUs without AVX2+FMA. Run it on a quiet
// machine; other load lowers the figure.
func MeasureFMAPeak(d time.Duration) (gflopsPerCore float64) {
	if !hasAVX2FMA {
		return 0
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const iters = 1 << 16 // ≈ 0.3 ms per slice at 80 GFLOP/s
	fmaPeakLoop(iters)    // warm up the FMA units' clocks
	best := 0.0
	for start := time.Now(); time.Since(start) < d; {
		t0 := time.Now()
		fmaPeakLoop(iters)
		if g := iters * fmaPeakFlopsPerIter / time.Since(t0).Seconds() / 1e9; g > best {
			best = g
		}
	}
	return best
}
