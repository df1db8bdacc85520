//go:build !arm64

package kernels

// hasNEON reports whether the NEON (arm64) kernels can run: only on arm64.
const hasNEON = false

func expNEON(dst, src *float32, n int)       { panic("kernels: no NEON on this architecture") }
func quickGELUNEON(dst, src *float32, n int) { panic("kernels: no NEON on this architecture") }
func sigmoidNEON(dst, src *float32, n int)   { panic("kernels: no NEON on this architecture") }
func geluNEON(dst, src *float32, n int)      { panic("kernels: no NEON on this architecture") }
func addNEON(dst, src *float32, n int)       { panic("kernels: no NEON on this architecture") }
func addVecNEON(dst, x, y *float32, n int)   { panic("kernels: no NEON on this architecture") }
func subVecNEON(dst, x, y *float32, n int)   { panic("kernels: no NEON on this architecture") }
func mulVecNEON(dst, x, y *float32, n int)   { panic("kernels: no NEON on this architecture") }
func divVecNEON(dst, x, y *float32, n int)   { panic("kernels: no NEON on this architecture") }

func maxNEON(x *float32, n int) float32      { panic("kernels: no NEON on this architecture") }
func scaleNEON(x *float32, n int, s float32) { panic("kernels: no NEON on this architecture") }
func expShiftSumNEON(dst, src *float32, n int, shift float32) float32 {
	panic("kernels: no NEON on this architecture")
}
func sumNEON(x *float32, n int) float32 { panic("kernels: no NEON on this architecture") }
func sumSqDevNEON(x *float32, n int, mean float32) float32 {
	panic("kernels: no NEON on this architecture")
}
func normAffineNEON(dst, src, gamma, beta *float32, n int, mean, rstd float32) {
	panic("kernels: no NEON on this architecture")
}

func packQuad6x16NEON(dst *uint8, a *uint8, lda int, blocks int, rs *int32) {
	panic("kernels: no NEON on this architecture")
}
