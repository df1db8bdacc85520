package kernels

//go:noescape
func geluAVX2(dst, src *float32, n int)

//go:noescape
func geluAVX512(dst, src *float32, n int)

// geluYMM is GELU limited to AVX2 (ymm), for ISAAVX2 pools on CPUs where
// GELU itself would use zmm.
func geluYMM(dst, src []float32) { ymmThenScalar(dst, src, geluAVX2, geluF32) }
