package kernels

//go:noescape
func expAVX2(dst, src *float32, n int)

//go:noescape
func quickGELUAVX2(dst, src *float32, n int)

//go:noescape
func sigmoidAVX2(dst, src *float32, n int)
