//go:build !amd64

package kernels

func addAVX2(dst, src *float32, n int) { panic("kernels: no AVX2 on this architecture") }

func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, blocks int) {
	panic("kernels: no AVX2 on this architecture")
}

func sumAVX2(x *float32, n int) float32 { panic("kernels: no AVX2 on this architecture") }
func sumSqDevAVX2(x *float32, n int, mean float32) float32 {
	panic("kernels: no AVX2 on this architecture")
}
func normAffineAVX2(dst, src, gamma, beta *float32, n int, mean, rstd float32) {
	panic("kernels: no AVX2 on this architecture")
}

func packA6AVX2(dst *float32, a *float32, lda int, blocks int, alpha float32) {
	panic("kernels: no AVX2 on this architecture")
}

func packQuad6x16AVX2(dst *uint8, a *uint8, lda int, blocks int, rs *int32) {
	panic("kernels: no AVX2 on this architecture")
}

func addVecAVX2(dst, x, y *float32, n int) { panic("kernels: no AVX2 on this architecture") }

func subVecAVX2(dst, x, y *float32, n int) { panic("kernels: no AVX2 on this architecture") }

func mulVecAVX2(dst, x, y *float32, n int) { panic("kernels: no AVX2 on this architecture") }

func divVecAVX2(dst, x, y *float32, n int) { panic("kernels: no AVX2 on this architecture") }
