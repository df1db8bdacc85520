package kernels

//go:noescape
func expAVX2(dst, src *float32, n int)

//go:noescape
func quickGELUAVX2(dst, src *float32, n int)

//go:noescape
func sigmoidAVX2(dst, src *float32, n int)

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
func quickGELUYMM(dst, src []float32) {
	dst = dst[:len(src)]
	n := len(src) &^ 7
	if n > 0 {
		quickGELUAVX2(&dst[0], &src[0], n)
	}
	for i := n; i < len(src); i++ {
		dst[i] = quickGELUScalar(src[i])
	}
}
