package kernels

// addNEON sets dst[i] += src[i] for i < n; n must be a multiple of 16.
//
//go:noescape
func addNEON(dst, src *float32, n int)
