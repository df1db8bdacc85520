package kernels

import (
	"runtime"
	"time"
)

// fmaPeakFlopsPerIter is the float32 work of one fmaPeakLoop iteration:
// 24 FMAs × 8 lanes × 2 flops.
const fmaPeakFlopsPerIter = 24 * 8 * 2

// MeasureFMAPeak runs a register-only loop of independent FMAs (12
// accumulators) on one core for about d and returns the best float32
// GFLOP/s seen over slices of it: the per-core peak GEMM efficiency is
// quoted against. It uses the vector width the Sgemm kernels use on this
// CPU — zmm where AVX-512F is present (where that peak is twice the ymm
// one), else ymm — so the ratio stays meaningful; MeasureFMAPeakAVX2
// always measures ymm. It returns 0 on CPUs without AVX2+FMA. Run it on a
// quiet machine; other load lowers the figure.
func MeasureFMAPeak(d time.Duration) (gflopsPerCore float64) {
	if hasNEON {
		return measureFMA(d, fmaPeakLoop, fmaPeakFlopsPerIter)
	}
	if hasAVX512 {
		return measureFMA(d, fmaPeakLoop512, 2*fmaPeakFlopsPerIter)
	}
	return MeasureFMAPeakAVX2(d)
}

// MeasureFMAPeakAVX2 is MeasureFMAPeak on ymm registers (AVX2+FMA), the
// yardstick of machines without AVX-512.
func MeasureFMAPeakAVX2(d time.Duration) (gflopsPerCore float64) {
	if !hasAVX2FMA {
		return 0
	}
	return measureFMA(d, fmaPeakLoop, fmaPeakFlopsPerIter)
}

func measureFMA(d time.Duration, loop func(int), flopsPerIter float64) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const iters = 1 << 16 // ≈ 0.3 ms per slice at 80 GFLOP/s
	loop(iters)           // warm up the FMA units' clocks
	best := 0.0
	for start := time.Now(); time.Since(start) < d; {
		t0 := time.Now()
		loop(iters)
		if g := iters * flopsPerIter / time.Since(t0).Seconds() / 1e9; g > best {
			best = g
		}
	}
	return best
}
