package imageproc

import "golang.org/x/sys/cpu"

// hasAVX2 says the AVX2 kernels can run here: the reduced IDCTs
// (jpeg_idct_amd64.s), the colour conversion (jpeg_color_amd64.s) and the
// resize's horizontal pass (resize_amd64.s), each beside its Go twin.
var hasAVX2 = cpu.X86.HasAVX2

// idct4x4AVX2 is idct4x4 on n consecutive blocks of coefs, block i's 4x4
// pixels going to out[4*i:] (rows at stride); tab is red4x4Table's.
//
//go:noescape
func idct4x4AVX2(coefs *int16, tab *[red4x4Rows * 8]int32, out *uint8, stride, n int)

// idct2x2AVX2 is idct2x2 on n consecutive blocks, block i's 2x2 pixels
// going to out[2*i:]; tab is red2x2Table's.
//
//go:noescape
func idct2x2AVX2(coefs *int16, tab *[red2x2Rows * 8]int32, out *uint8, stride, n int)

// yccRowAVX2 is yccTables.convertRow (the same arithmetic as its tables) on
// n pixels, n a multiple of 16; o receives 3n bytes.
//
//go:noescape
func yccRowAVX2(o, y, cb, cr *uint8, n int)

// resizeRowHAVX2 is resizeRowHGo for outputs [0, count) of bounds: output
// i reads taps from in[3*bounds[2i]:], rounded up to a multiple of 4 (16
// bytes read per 4 taps), with k4's coefficients (expandCoeffs4).
//
//go:noescape
func resizeRowHAVX2(o, in *uint8, bounds *int, k4 *int32, ksize4, count int)

// resizeRowVAVX2 is resizeRowVGo on the first n bytes of a row (n a
// multiple of 16): taps ≥ 1 rows of in at stride, weights k.
//
//go:noescape
func resizeRowVAVX2(o, in *uint8, stride int, k *int32, taps, n int)

// idctIslowAVX2 is idctIslow on n consecutive blocks of coefs, block i's
// 8x8 pixels going to out[8*i:] (rows at stride).
//
//go:noescape
func idctIslowAVX2(coefs *int16, q *[64]int32, out *uint8, stride, n int)

// fancyH2AVX2 is fancyH2Samples for chroma samples [1, n+1), n a multiple
// of 8, reading near and far up to index n+1.
//
//go:noescape
func fancyH2AVX2(out, near, far *uint8, n int, bias0, bias1 int32)

// The architecture-neutral names the decoder and the resize call: on
// amd64 the AVX2 kernels (simd_arm64.go has the NEON ones, simd_other.go
// none). Each is bit-exact with the Go twin named in its declaration.
var hasSIMD = hasAVX2

// simdISA names the kernels in benchmark and test names.
const simdISA = "avx2"

func idct4x4SIMD(coefs *int16, tab *[red4x4Rows * 8]int32, out *uint8, stride, n int) {
	idct4x4AVX2(coefs, tab, out, stride, n)
}

func idct2x2SIMD(coefs *int16, tab *[red2x2Rows * 8]int32, out *uint8, stride, n int) {
	idct2x2AVX2(coefs, tab, out, stride, n)
}

func idctIslowSIMD(coefs *int16, q *[64]int32, out *uint8, stride, n int) {
	idctIslowAVX2(coefs, q, out, stride, n)
}

func yccRowSIMD(o, y, cb, cr *uint8, n int) { yccRowAVX2(o, y, cb, cr, n) }

func fancyH2SIMD(out, near, far *uint8, n int, bias0, bias1 int32) {
	fancyH2AVX2(out, near, far, n, bias0, bias1)
}

func resizeRowHSIMD(o, in *uint8, bounds *int, k4 *int32, ksize4, count int) {
	resizeRowHAVX2(o, in, bounds, k4, ksize4, count)
}

func resizeRowVSIMD(o, in *uint8, stride int, k *int32, taps, n int) {
	resizeRowVAVX2(o, in, stride, k, taps, n)
}
