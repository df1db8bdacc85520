package kernels

//go:noescape
func expAVX2(dst, src *float32, n int)

//go:noescape
func quickGELUAVX2(dst, src *float32, n int)

//go:noescape
func sigmoidAVX2(dst, src *float32, n int)

//go:noescape
func geluTanhAVX2(dst, src *float32, n int)

//go:noescape
func expShiftSumAVX2(dst, src *float32, n int, shift float32) float32

//go:noescape
func maxAVX2(x *float32, n int) float32

//go:noescape
func scaleAVX2(x *float32, n int, s float32)

//go:noescape
func quickGELUAVX512(dst, src *float32, n int)

// quickGELUYMM is QuickGELU limited to AVX2 (ymm), for ISAAVX2 pools on
// CPUs where QuickGELU itself would use zmm.
func quickGELUYMM(dst, src []float32) { ymmThenScalar(dst, src, quickGELUAVX2, quickGELUScalar) }

// ymmThenScalar runs the 8-lane kernel over the longest multiple-of-8
// prefix of src and scalar over the rest (dst may be src).
func ymmThenScalar(dst, src []float32, kernel func(dst, src *float32, n int), scalar func(float32) float32) {
	dst = dst[:len(src)]
	n := len(src) &^ 7
	if n > 0 {
		kernel(&dst[0], &src[0], n)
	}
	for i := n; i < len(src); i++ {
		dst[i] = scalar(src[i])
	}
}
