//go:build !amd64

package imageproc

const hasAVX2 = false

func idct4x4AVX2(coefs *int16, tab *[red4x4Rows * 8]int32, out *uint8, stride, n int) {
	panic("imageproc: no AVX2 on this architecture")
}

func idct2x2AVX2(coefs *int16, tab *[red2x2Rows * 8]int32, out *uint8, stride, n int) {
	panic("imageproc: no AVX2 on this architecture")
}

func yccRowAVX2(o, y, cb, cr *uint8, n int) { panic("imageproc: no AVX2 on this architecture") }

func resizeRowHAVX2(o, in *uint8, bounds *int, k4 *int32, ksize4, count int) {
	panic("imageproc: no AVX2 on this architecture")
}

func resizeRowVAVX2(o, in *uint8, stride int, k *int32, taps, n int) {
	panic("imageproc: no AVX2 on this architecture")
}

func idctIslowAVX2(coefs *int16, q *[64]int32, out *uint8, stride, n int) {
	panic("imageproc: no AVX2 on this architecture")
}

func fancyH2AVX2(out, near, far *uint8, n int, bias0, bias1 int32) {
	panic("imageproc: no AVX2 on this architecture")
}
