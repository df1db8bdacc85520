package kernels

import "math"

// Float32 exp, used by Softmax, the GELUs and attention.
//
// Algorithm (Cephes expf): n = round(x·log2 e); r = x − n·ln2 (ln2 split
// in two parts so r is exact to float32); exp(r) ≈ 1 + r + r²·P(r) with
// a degree-5 minimax P on |r| ≤ ln2/2; the result is scaled by 2ⁿ in two
// steps (2^⌊n/2⌋·2^(n−⌊n/2⌋)) so n = 128 near the overflow point does not
// overflow the exponent field.
//
// Error: over 2.2 million float32 arguments evenly spread (in bit
// pattern) across [−87.3, 88.7], at most 0.97 ulp from the exact value for
// both the vector and the scalar form (TestExpAccuracy asserts ≤ 2 ulp). x > 88.72283 gives +Inf, x < −87.33654 gives 0
// (results that would be subnormal are flushed), NaN gives NaN.
const (
	expLog2e = float32(1.44269504088896341)
	expLn2Hi = float32(0.693359375)
	expLn2Lo = float32(-2.12194440e-4)
	expHi    = float32(88.72283)
	expLo    = float32(-87.33654)
	expC0    = float32(1.9875691500e-4)
	expC1    = float32(1.3981999507e-3)
	expC2    = float32(8.3334519073e-3)
	expC3    = float32(4.1665795894e-2)
	expC4    = float32(1.6666665459e-1)
	expC5    = float32(5.0000001201e-1)
)

// ExpF32 is the scalar form of the package's float32 exp; Exp applies the
// same algorithm to slices with AVX2 (results may differ from ExpF32's by
// an ulp because the vector code fuses multiply-adds).
func ExpF32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > expHi:
		return float32(math.Inf(1))
	case x < expLo:
		return 0
	}
	n := float32(math.RoundToEven(float64(x * expLog2e)))
	r := x - n*expLn2Hi
	r = r - n*expLn2Lo
	p := expC0
	p = p*r + expC1
	p = p*r + expC2
	p = p*r + expC3
	p = p*r + expC4
	p = p*r + expC5
	y := p*(r*r) + r + 1
	ni := int32(n)
	h := ni >> 1
	y *= math.Float32frombits(uint32(h+127) << 23)
	y *= math.Float32frombits(uint32(ni-h+127) << 23)
	return y
}

// Exp sets dst[i] = exp(src[i]) for i < len(src). dst and src may be the
// same slice; len(dst) must be at least len(src).
func Exp(dst, src []float32) {
	dst = dst[:len(src)]
	n := 0
	if hasAVX2FMA {
		n = len(src) &^ 7
		if n > 0 {
			expAVX2(&dst[0], &src[0], n)
		}
	}
	if hasNEON {
		n = len(src) &^ 3
		if n > 0 {
			expNEON(&dst[0], &src[0], n)
		}
	}
	for i := n; i < len(src); i++ {
		dst[i] = ExpF32(src[i])
	}
}

// quickGELUScalar is x·sigmoid(1.702·x), the activation of CLIP's MLPs.
func quickGELUScalar(x float32) float32 {
	return x / (1 + ExpF32(-1.702*x))
}

// QuickGELU sets dst[i] = src[i]·sigmoid(1.702·src[i]); dst may be src.
func QuickGELU(dst, src []float32) {
	dst = dst[:len(src)]
	n := 0
	if hasAVX512 {
		// Bit-identical to the AVX2 code, twice the lanes.
		n = len(src) &^ 15
		if n > 0 {
			quickGELUAVX512(&dst[0], &src[0], n)
		}
	}
	if hasAVX2FMA && len(src)-n >= 8 {
		m := (len(src) - n) &^ 7
		quickGELUAVX2(&dst[n], &src[n], m)
		n += m
	}
	if hasNEON && len(src) >= 4 {
		n = len(src) &^ 3
		quickGELUNEON(&dst[0], &src[0], n)
	}
	for i := n; i < len(src); i++ {
		dst[i] = quickGELUScalar(src[i])
	}
}

// Sigmoid sets dst[i] = 1/(1+exp(−src[i])); dst may be src.
func Sigmoid(dst, src []float32) {
	dst = dst[:len(src)]
	n := 0
	if hasAVX2FMA {
		n = len(src) &^ 7
		if n > 0 {
			sigmoidAVX2(&dst[0], &src[0], n)
		}
	}
	if hasNEON {
		n = len(src) &^ 3
		if n > 0 {
			sigmoidNEON(&dst[0], &src[0], n)
		}
	}
	for i := n; i < len(src); i++ {
		dst[i] = 1 / (1 + ExpF32(-src[i]))
	}
}

// GELUTanh sets dst[i] = x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the
// tanh GELU (ONNX Gelu approximate="tanh", SigLIP's and HF's
// gelu_pytorch_tanh); dst may be src. Since (1 + tanh u)/2 = sigmoid(2u),
// it is x·sigmoid(2u): the vector Sigmoid, without 1 + tanh's cancellation
// for negative x. With AVX2 one pass computes it (geluTanhAVX2); the
// rest stages the argument for the vector Sigmoid.
func GELUTanh(dst, src []float32) {
	dst = dst[:len(src)]
	if hasAVX2FMA {
		n := len(src) &^ 7
		if n > 0 {
			geluTanhAVX2(&dst[0], &src[0], n)
		}
		dst, src = dst[n:], src[n:]
	}
	var us [geluTanhBlock]float32
	const c = float32(2 * 0.7978845608028654) // 2·√(2/π)
	for lo := 0; lo < len(src); lo += geluTanhBlock {
		xs := src[lo:min(lo+geluTanhBlock, len(src))]
		u := us[:len(xs)]
		for i, x := range xs {
			u[i] = c * (x + 0.044715*x*x*x)
		}
		Sigmoid(u, u)
		for i, x := range xs {
			dst[lo+i] = x * u[i]
		}
	}
}

// geluTanhBlock is how many values GELUTanh stages for one Sigmoid call.
const geluTanhBlock = 256

// Erf sets dst[i] = erf(src[i]) (ONNX Erf); dst may be src.
func Erf(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		if x >= 0 {
			dst[i] = 1 - erfcF32(x)
		} else {
			dst[i] = erfcF32(-x) - 1
		}
		if x > -0.5 && x < 0.5 {
			dst[i] = erfSmall(x)
		}
	}
}

// erfSmall is the Taylor series of erf to x¹³, for |x| < 0.5 (the first
// omitted term is < 5e-10 there); it keeps relative accuracy near 0.
func erfSmall(x float32) float32 {
	x2 := x * x
	return x * (1.1283791671 + x2*(-0.3761263890+x2*(0.1128379167+x2*(-0.0268661706+x2*(0.0052239776+x2*(-0.0008548327+x2*0.0001205533))))))
}

// erfcF32 is erfc(z) for z ≥ 0: 1 − erf by series below 0.5, else the
// Numerical Recipes Chebyshev fit t·exp(P(t) − z²) (fractional error
// < 1.2e-7).
func erfcF32(z float32) float32 {
	if z < 0.5 {
		return 1 - erfSmall(z)
	}
	if z > 10 {
		return 0
	}
	t := 1 / (1 + 0.5*z)
	poly := -z*z - 1.26551223 + t*(1.00002368+t*(0.37409196+t*(0.09678418+t*(-0.18628806+t*(0.27886807+t*(-1.13520398+t*(1.48851587+t*(-0.82215223+t*0.17087277))))))))
	return t * ExpF32(poly)
}
