package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLinear checks Linear on a Pool of every instruction-set level this
// CPU supports (the epilogue's QuickGELU, GELU and Add run at the Pool's
// level).
func TestLinear(t *testing.T) {
	for _, isa := range SupportedISAs() {
		t.Run(isa.String(), func(t *testing.T) {
			pool, err := NewPoolWith(2, WithISA(isa))
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			testLinear(t, pool)
		})
	}
}

func testLinear(t *testing.T, pool *Pool) {
	rng := rand.New(rand.NewPCG(13, 1))
	acts := map[Activation]func(float64) float64{
		ActNone:      func(v float64) float64 { return v },
		ActQuickGELU: func(v float64) float64 { return v / (1 + math.Exp(-1.702*v)) },
		ActGELU:      func(v float64) float64 { return v / 2 * math.Erfc(-v/math.Sqrt2) },
		ActReLU:      func(v float64) float64 { return math.Max(v, 0) },
	}
	for _, s := range [][3]int{{1, 1, 1}, {7, 19, 33}, {50, 96, 64}, {131, 70, 530}} {
		m, n, k := s[0], s[1], s[2]
		for act, ref := range acts {
			for _, transW := range []bool{false, true} {
				x := randSlice(rng, m*(k+3))
				w := randSlice(rng, n*k)
				ldw := n
				if transW {
					ldw = k
				}
				pb, err := PackB(transW, k, n, w, ldw)
				if err != nil {
					t.Fatal(err)
				}
				bias, res := randSlice(rng, n), randSlice(rng, m*(n+1))
				want, mag := refGemm(false, transW, m, n, k, 1, x, k+3, w, ldw, 0, nil, n)
				y := make([]float32, m*(n+2))
				for i := range y {
					y[i] = float32(math.NaN())
				}
				if err := Linear(pool, m, x, k+3, pb, Epilogue{Bias: bias, Act: act, Residual: res, LdResidual: n + 1}, y, n+2); err != nil {
					t.Fatal(err)
				}
				for i := range m {
					for j := range n {
						// A ±mag·eps error in the product moves the activation by at most
						// slope(≤1.13)·that; tolerate that plus float32 rounding.
						wv := ref(want[i*n+j]+float64(bias[j])) + float64(res[i*(n+1)+j])
						tol := 1.2*4*float64(k+2)*1.2e-7*(mag[i*n+j]+math.Abs(float64(bias[j]))) + 2e-6*(1+math.Abs(wv))
						if got := y[i*(n+2)+j]; !(math.Abs(float64(got)-wv) <= tol) {
							t.Fatalf("m=%d n=%d k=%d act=%v transW=%v: Y[%d,%d] = %g, want %g", m, n, k, act, transW, i, j, got, wv)
						}
					}
				}
			}
		}
	}
	pb, _ := PackB(false, 2, 2, []float32{1, 2, 3, 4}, 2)
	y := make([]float32, 4)
	if err := Linear(nil, 2, []float32{1, 2, 3, 4}, 2, pb, Epilogue{Residual: y, LdResidual: 2}, y, 2); err == nil {
		t.Error("Linear accepted a residual overlapping its output")
	}
	if err := Linear(nil, 2, []float32{1, 2, 3, 4}, 2, pb, Epilogue{Bias: []float32{1}}, y, 2); err == nil {
		t.Error("Linear accepted a short bias")
	}
}
