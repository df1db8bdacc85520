//go:build !amd64

package kernels

func geluAVX2(dst, src *float32, n int)   { panic("kernels: no AVX2 on this architecture") }
func geluAVX512(dst, src *float32, n int) { panic("kernels: no AVX-512 on this architecture") }
