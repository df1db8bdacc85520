package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The NEON elementwise kernels are checked directly (exp.go and vec.go
// may not call them yet) against float64 math, with the tolerances the
// package's tests give the AVX2 forms. Each call covers only the first n
// values; the test asserts the rest of dst keeps its bits.

// runNEON applies fn to the first n values of src (n a multiple of m)
// into a fresh dst, checks dst[n:] untouched, and returns dst[:n].
func runNEON(t *testing.T, name string, fn func(dst, src *float32, n int), src []float32, m int) []float32 {
	t.Helper()
	n := len(src) &^ (m - 1)
	dst := make([]float32, len(src)+3)
	for i := range dst {
		dst[i] = -12345
	}
	if n > 0 {
		fn(&dst[0], &src[0], n)
	}
	for i := n; i < len(dst); i++ {
		if dst[i] != -12345 {
			t.Fatalf("%s: dst[%d] past n=%d changed to %g", name, i, n, dst[i])
		}
	}
	return dst[:n]
}

func TestExpNEONAccuracy(t *testing.T) {
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
	xs = xs[:len(xs)&^3]
	got := runNEON(t, "expNEON", expNEON, xs, 4)
	worst := 0.0
	for i, x := range xs {
		d := ulpDiff(got[i], math.Exp(float64(x)))
		if d > 2 {
			t.Fatalf("expNEON(%g) = %g, %.2f ulp from %g", x, got[i], d, math.Exp(float64(x)))
		}
		worst = max(worst, d)
	}
	t.Logf("expNEON over %d samples: max error %.2f ulp", len(xs), worst)
}

func TestExpNEONSpecialValues(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	in := []float32{0, 1, -1, 89, 1000, inf, -88, -1000, -inf, nan, 88.7, -87.3, 0.5, -0.5, 2, 3}
	got := runNEON(t, "expNEON", expNEON, in, 4)
	for i, x := range in {
		y := got[i]
		switch {
		case x != x:
			if y == y {
				t.Errorf("expNEON(NaN) = %g", y)
			}
		case x > 88.73:
			if !math.IsInf(float64(y), 1) {
				t.Errorf("expNEON(%g) = %g, want +Inf", x, y)
			}
		case x < -87.34:
			if y != 0 {
				t.Errorf("expNEON(%g) = %g, want 0", x, y)
			}
		default:
			if d := ulpDiff(y, math.Exp(float64(x))); d > 2 {
				t.Errorf("expNEON(%g) = %g, %.1f ulp off", x, y, d)
			}
		}
	}
}

func TestActivationsNEON(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	x := randSlice(rng, 1003)
	for i := range x {
		x[i] *= 4
	}
	x = append(x, 0, -0.0001, 30, -30, 100, -100, 0.3, -0.7, 3.9, 4.1, 1000, -1000, float32(math.Inf(1)))
	for name, a := range map[string]struct {
		fn  func(dst, src *float32, n int)
		ref func(float64) float64
	}{
		"quickGELUNEON": {quickGELUNEON, func(v float64) float64 { return v / (1 + math.Exp(-1.702*v)) }},
		"sigmoidNEON":   {sigmoidNEON, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }},
	} {
		got := runNEON(t, name, a.fn, x, 4)
		for i, y := range got {
			v := float64(x[i])
			want := a.ref(v)
			if math.IsInf(v, 1) { // +Inf·sigmoid(+Inf): the limit, not NaN
				want = a.ref(math.MaxFloat64)
			}
			tol := 4e-7*(1+2*math.Abs(v))*math.Abs(want) + 1e-37
			if d := math.Abs(float64(y) - want); !(d <= tol) {
				t.Errorf("%s(%g) = %g, want %g", name, v, y, want)
			}
		}
	}
}

func TestAddNEON(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 2))
	for _, n := range []int{16, 32, 48, 100} {
		a, b := randSlice(rng, n+5), randSlice(rng, n)
		got := append([]float32(nil), a...)
		m := n &^ 15
		addNEON(&got[0], &b[0], m)
		for i := range got {
			want := a[i] // float32 + float32 rounds exactly once: bit-equal
			if i < m {
				want = float32(float64(a[i]) + float64(b[i]))
			}
			if math.Float32bits(got[i]) != math.Float32bits(want) {
				t.Fatalf("n=%d: addNEON dst[%d] = %g, want %g", n, i, got[i], want)
			}
		}
	}
}

// TestFMAPeakLoopNEON checks the NEON peak loop runs and measures a
// plausible rate (not its speed): positive, finite, below 2 TFLOP/s.
func TestFMAPeakLoopNEON(t *testing.T) {
	g := measureFMA(20*time.Millisecond, fmaPeakLoop, fmaPeakFlopsPerIter)
	if !(g > 0) || math.IsInf(g, 0) || g > 2000 {
		t.Fatalf("NEON FMA peak = %g GFLOP/s per core, implausible", g)
	}
	t.Logf("NEON FMA peak: %.1f GFLOP/s per core (under emulation this means nothing)", g)
}
