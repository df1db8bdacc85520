package kernels

import "golang.org/x/sys/cpu"

// hasAVX2FMA reports whether the assembly kernels can run: AVX2 and FMA3,
// with the OS saving ymm state (x/sys/cpu folds OSXSAVE into HasAVX).
var hasAVX2FMA = cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasAVX512 reports AVX-512F with the OS saving zmm state.
var hasAVX512 = hasAVX2FMA && cpu.X86.HasAVX512F

// activeKernels are the micro-kernels Sgemm uses on this CPU.
var activeKernels = func() gemmKernels {
	switch {
	case hasAVX512:
		return gemmKernels{one: kernelAVX2, two: kernelAVX512, three: kernelAVX512x3, four: kernelAVX512x4, fourDirectA: kernelAVX512x4DirectA}
	case hasAVX2FMA:
		return gemmKernels{one: kernelAVX2}
	}
	return gemmKernels{one: kernelGeneric}
}()

// simdGemmKernels lists the assembly kernel sets this CPU can run (tests
// check each against the reference).
func simdGemmKernels() map[string]gemmKernels {
	m := map[string]gemmKernels{}
	if hasAVX2FMA {
		m["avx2"] = gemmKernels{one: kernelAVX2}
	}
	if hasAVX512 {
		m["avx512"] = gemmKernels{one: kernelAVX2, two: kernelAVX512}
		m["avx512x3"] = gemmKernels{one: kernelAVX2, two: kernelAVX512, three: kernelAVX512x3}
		m["avx512x4"] = gemmKernels{one: kernelAVX2, two: kernelAVX512, three: kernelAVX512x3, four: kernelAVX512x4}
		m["avx512x4directA"] = gemmKernels{one: kernelAVX2, two: kernelAVX512, three: kernelAVX512x3, four: kernelAVX512x4, fourDirectA: kernelAVX512x4DirectA}
	}
	return m
}

//go:noescape
func kernel6x32AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel5x32AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel4x32AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel3x32AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel2x32AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel1x32AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

var kernels512ByRows = [gemmMR + 1]func(k int, a, b, c *float32, ldc int, accumulate bool){
	nil, kernel1x32AVX512, kernel2x32AVX512, kernel3x32AVX512, kernel4x32AVX512, kernel5x32AVX512, kernel6x32AVX512,
}

// kernelAVX512 is the wide micro-kernel (gemmKernels.two): rows×32 from
// two consecutive packed panels.
func kernelAVX512(rows, kc int, a, b, c []float32, ldc int, accumulate bool) {
	_ = a[kc*gemmMR-1]
	_ = b[2*kc*gemmNR-1]
	_ = c[(rows-1)*ldc+2*gemmNR-1]
	kernels512ByRows[rows](kc, &a[0], &b[0], &c[0], ldc, accumulate)
}

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

//go:noescape
func kernel6x48AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel5x48AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel4x48AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel3x48AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel2x48AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel1x48AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

var kernels512x3ByRows = [gemmMR + 1]func(k int, a, b, c *float32, ldc int, accumulate bool){
	nil, kernel1x48AVX512, kernel2x48AVX512, kernel3x48AVX512, kernel4x48AVX512, kernel5x48AVX512, kernel6x48AVX512,
}

// kernelAVX512x3 is the widest micro-kernel (gemmKernels.three): rows×48
// from three consecutive packed panels.
func kernelAVX512x3(rows, kc int, a, b, c []float32, ldc int, accumulate bool) {
	_ = a[kc*gemmMR-1]
	_ = b[3*kc*gemmNR-1]
	_ = c[(rows-1)*ldc+3*gemmNR-1]
	kernels512x3ByRows[rows](kc, &a[0], &b[0], &c[0], ldc, accumulate)
}

//go:noescape
func kernel6x64AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel5x64AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel4x64AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel3x64AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel2x64AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel1x64AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

var kernels512x4ByRows = [gemmMR + 1]func(k int, a, b, c *float32, ldc int, accumulate bool){
	nil, kernel1x64AVX512, kernel2x64AVX512, kernel3x64AVX512, kernel4x64AVX512, kernel5x64AVX512, kernel6x64AVX512,
}

// kernelAVX512x4 is the four-panel micro-kernel (gemmKernels.four).
func kernelAVX512x4(rows, kc int, a, b, c []float32, ldc int, accumulate bool) {
	_ = a[kc*gemmMR-1]
	_ = b[4*kc*gemmNR-1]
	_ = c[(rows-1)*ldc+4*gemmNR-1]
	kernels512x4ByRows[rows](kc, &a[0], &b[0], &c[0], ldc, accumulate)
}

//go:noescape
func kernel6x64AVX512DirectA(k int, a *float32, lda int, b, c *float32, ldc int, accumulate bool)

// kernelAVX512x4DirectA is kernelAVX512x4 for a full 6-row tile reading
// A in place (gemmKernels.fourDirectA).
func kernelAVX512x4DirectA(kc int, a []float32, lda int, b, c []float32, ldc int, accumulate bool) {
	_ = a[5*lda+kc-1]
	_ = b[4*kc*gemmNR-1]
	_ = c[5*ldc+4*gemmNR-1]
	kernel6x64AVX512DirectA(kc, &a[0], lda, &b[0], &c[0], ldc, accumulate)
}
