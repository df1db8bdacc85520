//go:build !amd64

package kernels

func addAVX2(dst, src *float32, n int) { panic("kernels: no AVX2 on this architecture") }
