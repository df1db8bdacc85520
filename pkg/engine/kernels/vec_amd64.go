package kernels

//go:noescape
func addAVX2(dst, src *float32, n int)

//go:noescape
func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, blocks int)

//go:noescape
func sumAVX2(x *float32, n int) float32

//go:noescape
func sumSqDevAVX2(x *float32, n int, mean float32) float32

//go:noescape
func normAffineAVX2(dst, src, gamma, beta *float32, n int, mean, rstd float32)

//go:noescape
func packA6AVX2(dst *float32, a *float32, lda int, blocks int, alpha float32)

//go:noescape
func addVecAVX2(dst, x, y *float32, n int)

//go:noescape
func subVecAVX2(dst, x, y *float32, n int)

//go:noescape
func mulVecAVX2(dst, x, y *float32, n int)

//go:noescape
func divVecAVX2(dst, x, y *float32, n int)
