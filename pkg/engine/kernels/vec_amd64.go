package kernels

//go:noescape
func addAVX2(dst, src *float32, n int)
