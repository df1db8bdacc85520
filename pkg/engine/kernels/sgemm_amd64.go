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

// kernelRx16AVX2 are kernelGeneric in AVX2+FMA assembly on raw pointers,
// computing the first R rows of the tile; c must address R rows of 16
// floats at stride ldc.
//
//go:noescape
func kernel6x16AVX2(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel5x16AVX2(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel4x16AVX2(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel3x16AVX2(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel2x16AVX2(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel1x16AVX2(k int, a, b, c *float32, ldc int, accumulate bool)

var kernelsByRows = [gemmMR + 1]func(k int, a, b, c *float32, ldc int, accumulate bool){
	nil, kernel1x16AVX2, kernel2x16AVX2, kernel3x16AVX2, kernel4x16AVX2, kernel5x16AVX2, kernel6x16AVX2,
}

func kernelAVX2(rows, kc int, a, b, c []float32, ldc int, accumulate bool) {
	// Bounds are checked here once so the assembly can run unchecked.
	_ = a[kc*gemmMR-1]
	_ = b[kc*gemmNR-1]
	_ = c[(rows-1)*ldc+gemmNR-1]
	kernelsByRows[rows](kc, &a[0], &b[0], &c[0], ldc, accumulate)
}
