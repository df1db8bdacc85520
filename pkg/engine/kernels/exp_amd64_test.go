package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestActivationPairs checks that the two-vector loops (EXP8X2) of
// quickGELUAVX2 and geluTanhAVX2 give bit for bit what their one-vector
// loops (EXP8) give, on ordinary values and the special ones (±0, ±Inf,
// NaN, the overflow and underflow bounds); TestActivations checks both
// against float64.
func TestActivationPairs(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2+FMA on this CPU")
	}
	rng := rand.New(rand.NewPCG(27, 3))
	x := randSlice(rng, 8*129) // 64 pairs, then one vector alone
	for i := range x {
		x[i] *= 40
	}
	copy(x, []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-30, -60, 60, 52.2, -51.4, 88, -88, 200, -200, 1, -1, 52.1, -52.2, 51.3, -51.3, 1e-3})
	for name, fn := range map[string]func(dst, src *float32, n int){"QuickGELU": quickGELUAVX2, "GELUTanh": geluTanhAVX2} {
		pairs, single := make([]float32, len(x)), make([]float32, len(x))
		fn(&pairs[0], &x[0], len(x))
		for i := 0; i < len(x); i += 8 {
			fn(&single[i], &x[i], 8)
		}
		for i := range x {
			if math.Float32bits(pairs[i]) != math.Float32bits(single[i]) {
				t.Fatalf("%s(%g): two-vector loop %g, one-vector loop %g", name, x[i], pairs[i], single[i])
			}
		}
	}
}

// TestExpShiftSumPairs checks expShiftSumAVX2's two-vector loop against
// its one-vector loop bit for bit: the values, and the sum as the lanes
// add up vector after vector (the order both loops keep) and then reduce.
func TestExpShiftSumPairs(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2+FMA on this CPU")
	}
	rng := rand.New(rand.NewPCG(28, 5))
	for _, n := range []int{8, 16, 24, 80, 8 * 129} {
		x := randSlice(rng, n)
		for i := range x {
			x[i] *= 10
		}
		copy(x, []float32{float32(math.Inf(-1)), -200, 0})
		const shift = 2.5
		got, single := make([]float32, n), make([]float32, n)
		sum := expShiftSumAVX2(&got[0], &x[0], n, shift)
		var lanes [8]float32
		for i := 0; i < n; i += 8 {
			expShiftSumAVX2(&single[i], &x[i], 8, shift)
			for l := range lanes {
				lanes[l] += single[i+l]
			}
		}
		for i := range x {
			if math.Float32bits(got[i]) != math.Float32bits(single[i]) {
				t.Fatalf("n=%d: exp(%g−%g): two-vector loop %g, one-vector loop %g", n, x[i], shift, got[i], single[i])
			}
		}
		a0, a1, a2, a3 := lanes[0]+lanes[4], lanes[1]+lanes[5], lanes[2]+lanes[6], lanes[3]+lanes[7]
		if want := (a0 + a1) + (a2 + a3); math.Float32bits(sum) != math.Float32bits(want) {
			t.Errorf("n=%d: sum %g, want %g", n, sum, want)
		}
	}
}
