//go:build !linux

package kernels

import "testing"

func benchCPU(b *testing.B, flops float64, fn func()) { benchCPUUnit(b, flops, "GFLOP/s", fn) }

func benchCPUUnit(b *testing.B, flops float64, unit string, fn func()) {
	for b.Loop() {
		fn()
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, unit)
}

func benchParallel(b *testing.B, flops float64, fn func()) { benchCPU(b, flops, fn) }
