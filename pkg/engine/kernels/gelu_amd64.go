package kernels

//go:noescape
func geluAVX2(dst, src *float32, n int)

//go:noescape
func geluAVX512(dst, src *float32, n int)

// geluYMM is GELU limited to AVX2 (ymm), for ISAAVX2 pools on CPUs where
// GELU itself would use zmm.
func geluYMM(dst, src []float32) {
	dst = dst[:len(src)]
	n := len(src) &^ 7
	if n > 0 {
		geluAVX2(&dst[0], &src[0], n)
	}
	for i := n; i < len(src); i++ {
		dst[i] = geluF32(src[i])
	}
}
