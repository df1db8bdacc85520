package kernels

// addNEON sets dst[i] += src[i] for i < n; n must be a multiple of 16.
//
//go:noescape
func addNEON(dst, src *float32, n int)

//go:noescape
func addVecNEON(dst, x, y *float32, n int)

//go:noescape
func subVecNEON(dst, x, y *float32, n int)

//go:noescape
func mulVecNEON(dst, x, y *float32, n int)

//go:noescape
func divVecNEON(dst, x, y *float32, n int)
