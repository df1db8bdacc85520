package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSoftmax(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(11, 1))
	// Every tail length past a multiple of 8 (the vector width).
	for _, shape := range [][2]int{{1, 1}, {3, 7}, {5, 9}, {4, 10}, {3, 11}, {3, 12}, {3, 13}, {3, 14}, {4, 15}, {50, 50}, {400, 77}, {2, 1000}, {1024, 64}} {
		rows, cols := shape[0], shape[1]
		src := randSlice(rng, rows*cols)
		for i := range src {
			src[i] *= 10
		}
		src[0] = 80 // large logits must not overflow
		for _, p := range []*Pool{nil, pool} {
			dst := make([]float32, len(src))
			if err := Softmax(p, dst, src, rows, cols); err != nil {
				t.Fatal(err)
			}
			for r := range rows {
				row := src[r*cols : (r+1)*cols]
				m := math.Inf(-1)
				for _, x := range row {
					m = math.Max(m, float64(x))
				}
				var s float64
				for _, x := range row {
					s += math.Exp(float64(x) - m)
				}
				for j, x := range row {
					want := math.Exp(float64(x)-m) / s
					if got := dst[r*cols+j]; math.Abs(float64(got)-want) > 1e-6*want+1e-9 {
						t.Fatalf("%d×%d threads=%d: softmax[%d,%d] = %g, want %g", rows, cols, p.Threads(), r, j, got, want)
					}
				}
			}
		}
	}
	// A masked (−Inf) entry gets exactly zero weight, in the vector part
	// of a row and in its tail.
	for _, n := range []int{3, 11} {
		row := make([]float32, n)
		for j := range row {
			row[j] = float32(j % 3)
		}
		row[1], row[n-2] = float32(math.Inf(-1)), float32(math.Inf(-1))
		if err := Softmax(nil, row, row, 1, n); err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, x := range row {
			sum += float64(x)
		}
		if row[1] != 0 || row[n-2] != 0 || math.Abs(sum-1) > 1e-6 {
			t.Errorf("softmax with −Inf over %d values = %v", n, row)
		}
	}
	row := make([]float32, 3)
	if err := Softmax(nil, row, row, 2, 3); err == nil {
		t.Error("Softmax accepted a short slice")
	}
}

func TestLayerNorm(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(12, 1))
	for _, shape := range [][2]int{{1, 1}, {3, 5}, {50, 768}, {400, 768}, {7, 1001}} {
		rows, cols := shape[0], shape[1]
		src := randSlice(rng, rows*cols)
		for i := range src {
			src[i] = src[i]*3 + 20 // a large mean tests the two-pass variance
		}
		gamma, beta := randSlice(rng, cols), randSlice(rng, cols)
		const eps = 1e-5
		for _, b := range [][]float32{beta, nil} {
			for _, p := range []*Pool{nil, pool} {
				dst := make([]float32, len(src))
				if err := LayerNorm(p, dst, src, rows, cols, gamma, b, eps); err != nil {
					t.Fatal(err)
				}
				for r := range rows {
					row := src[r*cols : (r+1)*cols]
					var mean, v float64
					for _, x := range row {
						mean += float64(x)
					}
					mean /= float64(cols)
					for _, x := range row {
						v += (float64(x) - mean) * (float64(x) - mean)
					}
					rstd := 1 / math.Sqrt(v/float64(cols)+eps)
					for j, x := range row {
						want := (float64(x) - mean) * rstd * float64(gamma[j])
						if b != nil {
							want += float64(b[j])
						}
						if got := dst[r*cols+j]; math.Abs(float64(got)-want) > 2e-5*(1+math.Abs(want)) {
							t.Fatalf("%d×%d: layernorm[%d,%d] = %g, want %g", rows, cols, r, j, got, want)
						}
					}
				}
			}
		}
	}
	if err := LayerNorm(nil, make([]float32, 4), make([]float32, 4), 2, 2, []float32{1}, nil, 1e-5); err == nil {
		t.Error("LayerNorm accepted a gamma of the wrong length")
	}
}

// TestSum checks Sum against a float64 sum at every length up to past
// two vector blocks and at the ViT widths, within float32 rounding of the
// partial sums (n·2⁻²⁴ of Σ|x|).
func TestSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	lengths := []int{512, 768, 1000, 3072}
	for n := 0; n <= 80; n++ {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		x := make([]float32, n)
		var want, abs float64
		for i := range x {
			x[i] = float32(rng.NormFloat64()) + 0.5
			want += float64(x[i])
			abs += math.Abs(float64(x[i]))
		}
		got := float64(Sum(x))
		if tol := float64(n+1) * abs / (1 << 24); math.Abs(got-want) > tol {
			t.Errorf("n=%d: Sum = %g, want %g (±%g)", n, got, want, tol)
		}
	}
}
