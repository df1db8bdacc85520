//go:build !amd64 && !arm64

package imageproc

// No SIMD image kernels on this architecture: the Go twins run.
const hasSIMD = false

const simdISA = "none"

func idct4x4SIMD(coefs *int16, tab *[red4x4Rows * 8]int32, out *uint8, stride, n int) {
	panic("imageproc: no SIMD kernels on this architecture")
}

func idct2x2SIMD(coefs *int16, tab *[red2x2Rows * 8]int32, out *uint8, stride, n int) {
	panic("imageproc: no SIMD kernels on this architecture")
}

func idctIslowSIMD(coefs *int16, q *[64]int32, out *uint8, stride, n int) {
	panic("imageproc: no SIMD kernels on this architecture")
}

func yccRowSIMD(o, y, cb, cr *uint8, n int) { panic("imageproc: no SIMD kernels on this architecture") }

func fancyH2SIMD(out, near, far *uint8, n int, bias0, bias1 int32) {
	panic("imageproc: no SIMD kernels on this architecture")
}

func resizeRowHSIMD(o, in *uint8, bounds *int, k4 *int32, ksize4, count int) {
	panic("imageproc: no SIMD kernels on this architecture")
}

func resizeRowVSIMD(o, in *uint8, stride int, k *int32, taps, n int) {
	panic("imageproc: no SIMD kernels on this architecture")
}
