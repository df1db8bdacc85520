//go:build !amd64

package kernels

func quantizeU8AVX2(dst *uint8, src *float32, n int, scale, zero float32) {
	panic("kernels: no AVX2 on this architecture")
}

func minMaxAVX2(x *float32, n int) (lo, hi float32) { panic("kernels: no AVX2 on this architecture") }
