//go:build !amd64

package kernels

func expAVX2(dst, src *float32, n int)       { panic("kernels: no AVX2 on this architecture") }
func quickGELUAVX2(dst, src *float32, n int) { panic("kernels: no AVX2 on this architecture") }
func sigmoidAVX2(dst, src *float32, n int)   { panic("kernels: no AVX2 on this architecture") }
func geluTanhAVX2(dst, src *float32, n int)  { panic("kernels: no AVX2 on this architecture") }

func expShiftSumAVX2(dst, src *float32, n int, shift float32) float32 {
	panic("kernels: no AVX2 on this architecture")
}
func maxAVX2(x *float32, n int) float32      { panic("kernels: no AVX2 on this architecture") }
func scaleAVX2(x *float32, n int, s float32) { panic("kernels: no AVX2 on this architecture") }

func quickGELUAVX512(dst, src *float32, n int) { panic("kernels: no AVX-512 on this architecture") }
