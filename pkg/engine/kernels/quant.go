package kernels

import (
	"fmt"
	"math"
)

// MinMax returns the smallest and largest values of x (NaNs are skipped
// by the vector path; use it on finite data). It panics on an empty x.
func MinMax(x []float32) (lo, hi float32) {
	lo, hi = x[0], x[0]
	n := 0
	if hasAVX2FMA {
		n = len(x) &^ 7
		if n > 0 {
			lo, hi = minMaxAVX2(&x[0], n)
		}
	}
	for _, v := range x[n:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// QuantizeU8 sets dst[i] = clamp(roundHalfEven(src[i]/scale) + zero, 0,
// 255) — ONNX QuantizeLinear to uint8, and the last step of
// DynamicQuantizeLinear — with NaN mapped to 0, in parallel chunks on p.
func QuantizeU8(p *Pool, dst []uint8, src []float32, scale float32, zero uint8) error {
	if len(dst) < len(src) {
		return fmt.Errorf("kernels: QuantizeU8: dst has %d values, src %d", len(dst), len(src))
	}
	if !(scale > 0) || math.IsInf(float64(scale), 0) {
		return fmt.Errorf("kernels: QuantizeU8: scale %g is not a positive finite number", scale)
	}
	n := len(src)
	blocks := ceilDiv(n, 32)
	p.Parallel(blocks, elementwiseChunk/32, func(lo, hi int) {
		a, b := lo*32, min(hi*32, n)
		quantizeU8(dst[a:b], src[a:b], scale, float32(zero))
	})
	return nil
}

func quantizeU8(dst []uint8, src []float32, scale, zero float32) {
	n := 0
	if hasAVX2FMA {
		n = len(src) &^ 7
		if n > 0 {
			quantizeU8AVX2(&dst[0], &src[0], n, scale, zero)
		}
	}
	for i := n; i < len(src); i++ {
		r := float32(math.RoundToEven(float64(src[i]/scale))) + zero
		switch {
		case !(r > 0): // also NaN
			dst[i] = 0
		case r >= 255:
			dst[i] = 255
		default:
			dst[i] = uint8(r)
		}
	}
}
