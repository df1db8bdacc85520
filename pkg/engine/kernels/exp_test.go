package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ulpDiff is |got − want| in units of the float32 spacing at want, where
// want is the float64 reference value.
func ulpDiff(got float32, want float64) float64 {
	w := float32(want)
	ulp := float64(math.Nextafter32(w, float32(math.Inf(1)))) - float64(w)
	if math.IsInf(float64(w), 0) || ulp == 0 || math.IsInf(ulp, 0) {
		ulp = float64(math.Nextafter32(math.MaxFloat32, 0)) - float64(math.MaxFloat32)
		ulp = math.Abs(ulp)
	}
	return math.Abs(float64(got)-want) / ulp
}

// TestExpAccuracy sweeps float32 bit patterns across the finite range of
// exp and checks the vector and scalar forms against math.Exp (float64).
func TestExpAccuracy(t *testing.T) {
	var xs []float32
	for _, r := range [][2]float32{{0, expHi}, {0, -expLo}} {
		lo, hi := math.Float32bits(r[0]), math.Float32bits(r[1])
		for b := lo; b <= hi; b += 997 {
			x := math.Float32frombits(b)
			if r[1] == -expLo {
				x = -x
			}
			xs = append(xs, x)
		}
	}
	got := make([]float32, len(xs))
	Exp(got, xs)
	maxVec, maxScalar := 0.0, 0.0
	for i, x := range xs {
		want := math.Exp(float64(x))
		maxVec = max(maxVec, ulpDiff(got[i], want))
		maxScalar = max(maxScalar, ulpDiff(ExpF32(x), want))
	}
	t.Logf("exp over %d samples: max error vector %.2f ulp, scalar %.2f ulp", len(xs), maxVec, maxScalar)
	if maxVec > 2 || maxScalar > 2 {
		t.Errorf("exp error exceeds 2 ulp: vector %.2f, scalar %.2f", maxVec, maxScalar)
	}
}

func TestExpSpecialValues(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	in := []float32{0, 1, -1, 89, 1000, inf, -88, -1000, -inf, nan, 88.7, -87.3, 0.5, -0.5, 2, 3}
	got := make([]float32, len(in))
	Exp(got, in)
	for i, x := range in {
		for name, y := range map[string]float32{"vector": got[i], "scalar": ExpF32(x)} {
			switch {
			case x != x:
				if y == y {
					t.Errorf("%s exp(NaN) = %g", name, y)
				}
			case x > 88.73:
				if !math.IsInf(float64(y), 1) {
					t.Errorf("%s exp(%g) = %g, want +Inf", name, x, y)
				}
			case x < -87.34:
				if y != 0 {
					t.Errorf("%s exp(%g) = %g, want 0", name, x, y)
				}
			default:
				if d := ulpDiff(y, math.Exp(float64(x))); d > 2 {
					t.Errorf("%s exp(%g) = %g, %.1f ulp off", name, x, y, d)
				}
			}
		}
	}
}

func TestActivations(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	x := randSlice(rng, 1003)
	for i := range x {
		x[i] *= 4
	}
	x = append(x, 0, -0.0001, 30, -30, 100, -100, 0.3, -0.7, 3.9, 4.1, 1e20, -1e20) // ±1e20: x² and x³ overflow
	type act struct {
		fn   func(dst, src []float32)
		ref  func(float64) float64
		rtol float64
	}
	acts := map[string]act{
		"QuickGELU": {QuickGELU, func(v float64) float64 { return v / (1 + math.Exp(-1.702*v)) }, 4e-7},
		"Sigmoid":   {Sigmoid, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }, 4e-7},
		"GELU":      {GELU, func(v float64) float64 { return v / 2 * math.Erfc(-v/math.Sqrt2) }, 2e-6},
		"Erf":       {Erf, math.Erf, 1e-6},
		"GELUTanh": {GELUTanh, func(v float64) float64 {
			// (1 + tanh u)/2 written as 1/(1 + e^(−2u)): exact in float64
			// where 1 + tanh u cancels.
			return v / (1 + math.Exp(-2*math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
		}, 2e-6},
	}
	for name, a := range acts {
		got := make([]float32, len(x))
		a.fn(got, x)
		inPlace := append([]float32(nil), x...)
		a.fn(inPlace, inPlace)
		for i, v := range x {
			want := a.ref(float64(v))
			// float32 rounding of the argument of exp (e.g. 1.702·x) costs
			// up to |x|·2⁻²⁴ relative error in the result on top of the rest.
			tol := a.rtol*(1+2*math.Abs(float64(v)))*math.Abs(want) + 1e-37
			if d := math.Abs(float64(got[i]) - want); !(d <= tol) {
				t.Errorf("%s(%g) = %g, want %g", name, v, got[i], want)
			}
			if inPlace[i] != got[i] {
				t.Errorf("%s in place (%g) = %g, out of place %g", name, v, inPlace[i], got[i])
			}
		}
	}
}

func TestAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 1))
	for _, n := range []int{0, 1, 31, 32, 33, 100} {
		a, b := randSlice(rng, n), randSlice(rng, n)
		got := append([]float32(nil), a...)
		Add(got, b)
		for i := range n {
			if want := float64(a[i]) + float64(b[i]); math.Abs(float64(got[i])-want) > 1e-7*math.Abs(want)+1e-30 {
				t.Fatalf("n=%d: Add[%d] = %g, want %g", n, i, got[i], want)
			}
		}
	}
}

func TestElementwiseParallel(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	x := randSlice(rand.New(rand.NewPCG(21, 1)), 3*elementwiseChunk+5)
	want := make([]float32, len(x))
	QuickGELU(want, x)
	got := make([]float32, len(x))
	Elementwise(pool, QuickGELU, got, x)
	for i := range x {
		if got[i] != want[i] {
			t.Fatalf("Elementwise(QuickGELU)[%d] = %g, one call gives %g", i, got[i], want[i])
		}
	}
	orig := append([]float32(nil), x...)
	Elementwise(pool, Exp, x, x) // in place
	for i, v := range orig {
		if d := ulpDiff(x[i], math.Exp(float64(v))); d > 2 {
			t.Fatalf("Elementwise(Exp) in place [%d] = %g, %.1f ulp from exp(%g)", i, x[i], d, v)
		}
	}
}

// TestQuickGELUWidths checks that the AVX-512 QuickGELU gives the AVX2
// code's bits, special values included.
func TestQuickGELUWidths(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(26, 1))
	x := randSlice(rng, 1024)
	for i := range x {
		x[i] *= 40
	}
	copy(x, []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-30, -60, 60, 52.2, -51.4, 88, -88, 200, -200, 1, -1})
	y512, y256 := make([]float32, len(x)), make([]float32, len(x))
	quickGELUAVX512(&y512[0], &x[0], len(x))
	quickGELUAVX2(&y256[0], &x[0], len(x))
	for i := range x {
		if math.Float32bits(y512[i]) != math.Float32bits(y256[i]) {
			t.Fatalf("QuickGELU(%g): AVX-512 %g, AVX2 %g", x[i], y512[i], y256[i])
		}
	}
}
