package kernels

import "math"

// RoundFloat16 rounds every value of xs, in place, to the nearest IEEE
// half-precision value (ties to even; subnormal halves below 2⁻¹⁴, ±Inf
// from 65520 on, NaN stays a quiet NaN with its top payload bits), held
// widened in float32: what storing a float16 tensor does, which the
// engine repeats after every step of an _fp16 graph. F16C's
// VCVTPS2PH/VCVTPH2PS pair on amd64; a Go twin elsewhere and for the
// tail. Long slices are split over p's threads (p may be nil).
func RoundFloat16(p *Pool, xs []float32) {
	threads := p.beginSplit(len(xs), elementwiseChunk)
	if threads <= 1 {
		roundFloat16(xs)
		return
	}
	defer p.release()
	p.half = xs
	p.split(threads, len(xs), p.halfFn)
	p.half = nil
}

// roundHalfRange is thread work of a parallel RoundFloat16 call.
func (p *Pool) roundHalfRange(lo, hi int) { roundFloat16(p.half[lo:hi]) }

func roundFloat16(xs []float32) {
	n := 0
	if hasF16C {
		n = len(xs) &^ 7
		if n > 0 {
			roundFloat16F16C(&xs[0], n)
		}
	}
	for i, x := range xs[n:] {
		xs[n+i] = roundFloat16Go(x)
	}
}

// roundFloat16Go is one value of RoundFloat16 in Go, the F16C twin.
func roundFloat16Go(x float32) float32 {
	b := math.Float32bits(x)
	sign, abs := b&0x80000000, b&0x7fffffff
	switch {
	case abs > 0x7f800000: // NaN: quieted, the payload cut to a half's 10 bits
		return math.Float32frombits(b&0xffffe000 | 0x00400000)
	case abs >= 0x477ff000: // ≥ 65520 (Inf included) rounds to Inf
		return math.Float32frombits(sign | 0x7f800000)
	case abs < 0x38800000:
		// Below 2⁻¹⁴ halves are multiples of 2⁻²⁴, the spacing of
		// float32 in [0.5, 1): adding 0.5 rounds to one (ties to even),
		// subtracting it is exact.
		r := float32(math.Float32frombits(abs)+0.5) - 0.5
		return math.Float32frombits(sign | math.Float32bits(r))
	}
	// Round the 23-bit mantissa to 10 bits, ties to even; a carry moves
	// into the exponent as it should.
	abs += 0xfff + (abs>>13)&1
	return math.Float32frombits(sign | abs&0xffffe000)
}
