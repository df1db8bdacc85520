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
