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
