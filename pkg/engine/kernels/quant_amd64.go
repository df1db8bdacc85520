package kernels

//go:noescape
func quantizeU8AVX2(dst *uint8, src *float32, n int, scale, zero float32)

//go:noescape
func minMaxAVX2(x *float32, n int) (lo, hi float32)
