package kernels

//go:noescape
func addAVX2(dst, src *float32, n int)

//go:noescape
func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, blocks int)
