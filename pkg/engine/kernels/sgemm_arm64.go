package kernels

// On arm64 Sgemm runs the NEON micro-kernel: Advanced SIMD is part of every
// AArch64 CPU Go supports (the runtime itself relies on it), so there is
// nothing to detect. The x86 feature flags stay false (packing runs its Go
// loops); hasNEON marks where the shared code may call a NEON form.

// activeKernels are the micro-kernels Sgemm uses on this CPU.
var activeKernels = gemmKernels{one: kernelNEON}

// simdGemmKernels lists the assembly kernel sets this CPU can run (tests
// check each against the reference).
func simdGemmKernels() map[string]gemmKernels {
	return map[string]gemmKernels{"neon": {one: kernelNEON}}
}

// hasNEON reports whether the NEON kernels can run: always on arm64.
const hasNEON = true

// hasAVX2FMA reports whether the AVX2 assembly kernels can run: never on arm64.
const hasAVX2FMA = false

// hasAVX512 reports whether the AVX-512 kernels can run: never on arm64.
const hasAVX512 = false

// kernelRx16NEON are kernelGeneric in NEON assembly on raw pointers,
// computing the first R rows of the tile and touching no other row; c must
// address R rows of 16 floats at stride ldc.
//
//go:noescape
func kernel6x16NEON(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel5x16NEON(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel4x16NEON(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel3x16NEON(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel2x16NEON(k int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel1x16NEON(k int, a, b, c *float32, ldc int, accumulate bool)

var kernelsNEONByRows = [gemmMR + 1]func(k int, a, b, c *float32, ldc int, accumulate bool){
	nil, kernel1x16NEON, kernel2x16NEON, kernel3x16NEON, kernel4x16NEON, kernel5x16NEON, kernel6x16NEON,
}

// kernelNEON is the arm64 micro-kernel (gemmKernels.one): the first rows
// rows of the 6×16 tile.
func kernelNEON(rows, kc int, a, b, c []float32, ldc int, accumulate bool) {
	// Bounds are checked here once so the assembly can run unchecked.
	_ = c[(rows-1)*ldc+gemmNR-1]
	if kc == 0 { // an empty product: &a[0] would not exist
		if !accumulate {
			for r := range rows {
				clear(c[r*ldc : r*ldc+gemmNR])
			}
		}
		return
	}
	_ = a[kc*gemmMR-1]
	_ = b[kc*gemmNR-1]
	kernelsNEONByRows[rows](kc, &a[0], &b[0], &c[0], ldc, accumulate)
}
