package onnx

// Float16sToFloat32 widens the IEEE halves src into dst (len(dst) ≥
// len(src)) exactly, as Float16ToFloat32 does value by value, except that
// with F16C (amd64) a signalling NaN comes out quiet: an _fp16 export's
// weights are widened once at load, and VCVTPH2PS does it ~15× faster
// than the scalar loop (BenchmarkFloat16sToFloat32).
func Float16sToFloat32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	n := 0
	if hasF16C {
		n = len(src) &^ 7
		if n > 0 {
			float16sToFloat32F16C(&dst[0], &src[0], n)
		}
	}
	for i, h := range src[n:] {
		dst[n+i] = Float16ToFloat32(h)
	}
}
