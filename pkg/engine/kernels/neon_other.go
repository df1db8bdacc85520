//go:build !arm64

package kernels

// hasNEON reports whether the NEON (arm64) kernels can run: only on arm64.
const hasNEON = false

func expNEON(dst, src *float32, n int)       { panic("kernels: no NEON on this architecture") }
func quickGELUNEON(dst, src *float32, n int) { panic("kernels: no NEON on this architecture") }
func sigmoidNEON(dst, src *float32, n int)   { panic("kernels: no NEON on this architecture") }
func addNEON(dst, src *float32, n int)       { panic("kernels: no NEON on this architecture") }
