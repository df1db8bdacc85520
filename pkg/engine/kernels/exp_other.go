//go:build !amd64

package kernels

func expAVX2(dst, src *float32, n int)       { panic("kernels: no AVX2 on this architecture") }
func quickGELUAVX2(dst, src *float32, n int) { panic("kernels: no AVX2 on this architecture") }
func sigmoidAVX2(dst, src *float32, n int)   { panic("kernels: no AVX2 on this architecture") }
