package kernels

import "golang.org/x/sys/cpu"

// hasAVX2FMA reports whether the assembly kernels can run: AVX2 and FMA3,
// with the OS saving ymm state (x/sys/cpu folds OSXSAVE into HasAVX).
var hasAVX2FMA = cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA

// activeKernel is the micro-kernel Sgemm uses on this CPU.
var activeKernel = func() microKernel {
	if hasAVX2FMA {
		return kernelAVX2
	}
	return kernelGeneric
}()

// kernel6x16AVX2 is kernelGeneric in AVX2+FMA assembly on raw pointers;
// c must address 6 rows of 16 floats at stride ldc.
//
//go:noescape
func kernel6x16AVX2(k int, a, b, c *float32, ldc int, accumulate bool)

func kernelAVX2(kc int, a, b, c []float32, ldc int, accumulate bool) {
	// Bounds are checked here once so the assembly can run unchecked.
	_ = a[kc*gemmMR-1]
	_ = b[kc*gemmNR-1]
	_ = c[(gemmMR-1)*ldc+gemmNR-1]
	kernel6x16AVX2(kc, &a[0], &b[0], &c[0], ldc, accumulate)
}
