package kernels

import (
	"math"
	"testing"
)

// geluRef is the erf GELU in float64: x/2·erfc(−x/√2), which has no
// cancellation for negative x; GELU(−Inf) is its limit, 0.
func geluRef(x float32) float64 {
	v := float64(x)
	if math.IsInf(v, -1) {
		return 0
	}
	return v / 2 * math.Erfc(-v/math.Sqrt2)
}

// geluSweep is every 997th float32 bit pattern in [−16, 16] (about 2.2
// million values, both signs, all exponents down to the subnormals), then
// the special values. Its length is odd, so every vector level also runs
// its scalar tail, and the special values fall both in vector lanes (at
// the front) and in the tail (at the back).
func geluSweep() []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), 14, -14, 13.99, -13.99, 13.2, -13.2, 100, -100, 1e30, -1e30,
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		1e-40, -1e-40, 1e-20, -1e-20, 0.5, -0.5, 1, -1, 3, -3, 5.5, -5.5, 9, -9, 12, -12}
	xs := append([]float32(nil), specials...)
	for b := uint32(0); b <= math.Float32bits(16); b += 997 {
		x := math.Float32frombits(b)
		xs = append(xs, x, -x)
	}
	xs = append(xs, specials...)
	if len(xs)%2 == 0 {
		xs = append(xs, 0.25)
	}
	return xs
}

// geluLevels are GELU at every ISA level this CPU has (the Go twin at
// ISAGeneric, ymm at ISAAVX2, zmm at ISAAVX512), the native entry point,
// and where the CPU has AVX-512 the zmm kernel itself, whether or not GELU
// uses it yet (geluUseZMM).
func geluLevels() map[string]func(dst, src []float32) {
	levels := map[string]func(dst, src []float32){"GELU": GELU}
	for _, isa := range SupportedISAs() {
		levels[isa.String()] = isaTable[isa].gelu
	}
	if hasAVX512 {
		levels["zmm kernel"] = func(dst, src []float32) {
			n := len(src) &^ 15
			if n > 0 {
				geluAVX512(&dst[0], &src[0], n)
			}
			for i := n; i < len(src); i++ {
				dst[i] = geluF32(src[i])
			}
		}
	}
	return levels
}

// TestGELUAccuracy compares GELU at every level of geluLevels against
// float64: within 6e-7 relative (≈ 10 ulp; measured 3.8e-7) where the
// exact result is above 2⁻¹²⁰; below that (x < −12.9, where erfc leaves
// float32's range) a result no larger than 2⁻¹²⁰ of the same sign or 0;
// the special values exactly.
func TestGELUAccuracy(t *testing.T) {
	xs := geluSweep()
	const rtol = 6e-7
	for name, fn := range geluLevels() {
		got := make([]float32, len(xs))
		fn(got, xs)
		worst, worstX, bad := 0.0, float32(0), 0
		for i, x := range xs {
			y, want := got[i], geluRef(x)
			switch {
			case math.IsNaN(want):
				if !math.IsNaN(float64(y)) {
					t.Errorf("%s: GELU(NaN) = %g, want NaN", name, y)
				}
			case math.IsInf(want, 0) || want == 0:
				if float64(y) != want || math.Signbit(float64(y)) != math.Signbit(want) && !math.IsInf(float64(x), -1) {
					t.Errorf("%s: GELU(%g) = %g, want %g", name, x, y, want)
				}
			case math.Abs(want) < 0x1p-120:
				if !(math.Abs(float64(y)) <= 0x1p-120) || y != 0 && math.Signbit(float64(y)) != math.Signbit(want) {
					t.Errorf("%s: GELU(%g) = %g, want %g (below 2⁻¹²⁰)", name, x, y, want)
				}
			default:
				d := math.Abs(float64(y)-want) / math.Abs(want)
				if d > worst {
					worst, worstX = d, x
				}
				if !(d <= rtol) {
					if bad++; bad <= 10 {
						t.Errorf("%s: GELU(%g) = %g, want %g (relative error %.2g)", name, x, y, want, d)
					}
				}
			}
		}
		t.Logf("%s: worst relative error %.3g at x = %g over %d values", name, worst, worstX, len(xs))
		if bad > 10 {
			t.Errorf("%s: %d values off in all", name, bad)
		}
	}
}

// The AVX2 kernel runs two vectors per loop step and a last one alone
// when the count of vectors is odd (NEON one of 4 lanes per step): every length gives each value the
// result it gets inside a long slice (the scalar tail its scalar twin's),
// in place too.
func TestGELULengths(t *testing.T) {
	xs := geluSweep()[:200]
	levels := map[string]func(dst, src []float32){"GELU": GELU}
	for _, isa := range SupportedISAs() {
		levels[isa.String()] = isaTable[isa].gelu
	}
	lanes := 8 // AVX2's vectors
	if hasNEON {
		lanes = 4
	}
	for name, fn := range levels {
		want := make([]float32, len(xs))
		fn(want, xs)
		for n := 1; n <= 64; n++ {
			got := append([]float32(nil), xs[:n]...)
			fn(got, got)
			for i := range got {
				w := want[i]
				if i >= n&^(lanes-1) {
					w = geluF32(xs[i]) // the scalar tail
				}
				same := math.Float32bits(got[i]) == math.Float32bits(w) ||
					got[i] != got[i] && w != w // NaN payloads may differ
				if !same {
					t.Fatalf("%s, %d values in place: GELU(%g) = %g, want %g", name, n, xs[i], got[i], w)
				}
			}
		}
	}
}

// TestGELUTwin checks that the Go twin takes the vector kernels' steps:
// over the whole sweep, every level of geluLevels gives geluF32's bits, so
// a slice's scalar tail and a generic pool agree with the vectors. (fma32
// rounds through float64, which could in principle differ from a float32
// FMA in the last bit; it does on none of these values.)
func TestGELUTwin(t *testing.T) {
	xs := geluSweep()
	want := make([]float32, len(xs))
	for i, x := range xs {
		want[i] = geluF32(x)
	}
	for name, fn := range geluLevels() {
		got := make([]float32, len(xs))
		fn(got, xs)
		bad := 0
		for i, x := range xs {
			w := want[i]
			if math.Float32bits(got[i]) != math.Float32bits(w) && !(got[i] != got[i] && w != w) {
				if bad++; bad <= 10 {
					t.Errorf("%s: GELU(%g) = %g (%#08x), geluF32 gives %g (%#08x)", name, x, got[i], math.Float32bits(got[i]), w, math.Float32bits(w))
				}
			}
		}
		if bad > 10 {
			t.Errorf("%s: %d values differ in all", name, bad)
		}
	}
}
