package imageproc

// The NEON (Advanced SIMD) kernels, hand-written like the AVX2 ones: every
// AArch64 CPU Go runs on has Advanced SIMD, so they need no feature test.
// Each is bit-exact with the Go twin its comment names (the same 32-bit
// wrapping integer arithmetic as libjpeg and Pillow); the tests compare
// them on random and extreme inputs.
const hasSIMD = true

// simdISA names the kernels in benchmark and test names.
const simdISA = "neon"

// idct4x4SIMD is idct4x4 on n consecutive blocks of coefs, block i's 4x4
// pixels going to out[4*i:] (rows at stride); tab is red4x4Table's
// (jpeg_idct_arm64.s).
//
//go:noescape
func idct4x4SIMD(coefs *int16, tab *[red4x4Rows * 8]int32, out *uint8, stride, n int)

// idct2x2SIMD is idct2x2 on n consecutive blocks, block i's 2x2 pixels
// going to out[2*i:]; tab is red2x2Table's (jpeg_idct_arm64.s).
//
//go:noescape
func idct2x2SIMD(coefs *int16, tab *[red2x2Rows * 8]int32, out *uint8, stride, n int)

// idctIslowSIMD is idctIslow on n consecutive blocks of coefs, block i's
// 8x8 pixels going to out[8*i:] (rows at stride) (jpeg_islow_arm64.s).
//
//go:noescape
func idctIslowSIMD(coefs *int16, q *[64]int32, out *uint8, stride, n int)

// yccRowSIMD is yccTables.convertRow on n pixels, n a multiple of 16; o
// receives 3n bytes (jpeg_color_arm64.s).
//
//go:noescape
func yccRowSIMD(o, y, cb, cr *uint8, n int)

// fancyH2SIMD is fancyH2Samples for chroma samples [1, n+1), n a multiple
// of 8, reading near and far up to index n+1 (jpeg_color_arm64.s).
//
//go:noescape
func fancyH2SIMD(out, near, far *uint8, n int, bias0, bias1 int32)

// resizeRowHSIMD is resizeRowHGo for outputs [0, count) of bounds: output
// i reads taps from in[3*bounds[2i]:], rounded up to a multiple of 4 (16
// bytes read per 4 taps), with k4's coefficients (expandCoeffs4)
// (resize_arm64.s).
//
//go:noescape
func resizeRowHSIMD(o, in *uint8, bounds *int, k4 *int32, ksize4, count int)

// resizeRowVSIMD is resizeRowVGo on the first n bytes of a row (n a
// multiple of 16): taps ≥ 1 rows of in at stride, weights k
// (resize_arm64.s).
//
//go:noescape
func resizeRowVSIMD(o, in *uint8, stride int, k *int32, taps, n int)
