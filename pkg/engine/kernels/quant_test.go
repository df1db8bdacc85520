package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestQuantizeU8 checks the quantisation of DynamicQuantizeU8 (the
// quantizeU8 kernel on each thread's share) for given parameters: exact
// ties round to even, extremes clamp, NaN gives 0, on an input split over
// two threads; parameters refused leave the output untouched.
func TestQuantizeU8(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(22, 1))
	x := randSlice(rng, 3*elementwiseChunk+13)
	for i := range x {
		x[i] *= 5
	}
	const scale = float32(0.03)
	// Exact ties (k + 0.5)·scale must round to even; also extremes.
	for i, v := range []float32{0.5, 1.5, 2.5, -0.5, -1.5, 1000, -1000, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		x[i] = v * scale
		x[len(x)-1-i] = v * scale
	}
	const zero = 117
	y := make([]uint8, len(x))
	given := func(lo, hi float32) (float32, uint8, bool) { return scale, zero, true }
	if _, _, ok := DynamicQuantizeU8(pool, y, x, given); !ok {
		t.Fatal("not quantized")
	}
	for i, v := range x {
		// Reference in float64 on the float32 quotient, as ONNX specifies
		// (x / y_scale computed in the input type).
		q := float64(v / scale)
		want := 0.0
		if !math.IsNaN(q) {
			want = math.Min(math.Max(math.RoundToEven(q)+zero, 0), 255)
		}
		if float64(y[i]) != want {
			t.Fatalf("quantize(%g/%g) = %d, want %g", v, scale, y[i], want)
		}
	}
	refused := func(lo, hi float32) (float32, uint8, bool) { return 0, 0, false }
	y[0] = 7
	if _, _, ok := DynamicQuantizeU8(nil, y, x, refused); ok || y[0] != 7 {
		t.Error("quantized with the parameters refused")
	}
}

func TestMinMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 1))
	for _, n := range []int{1, 7, 8, 9, 100, 1001} {
		x := randSlice(rng, n)
		lo, hi := MinMax(x)
		wlo, whi := math.Inf(1), math.Inf(-1)
		for _, v := range x {
			wlo, whi = math.Min(wlo, float64(v)), math.Max(whi, float64(v))
		}
		if float64(lo) != wlo || float64(hi) != whi {
			t.Fatalf("n=%d: MinMax = %g, %g, want %g, %g", n, lo, hi, wlo, whi)
		}
	}
}

func TestDequantizeI32(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(24, 1))
	for _, shape := range [][2]int{{1, 1}, {3, 17}, {400, 768}} {
		rows, cols := shape[0], shape[1]
		src := make([]int32, rows*cols)
		for i := range src {
			src[i] = int32(rng.IntN(1<<24)) - 1<<23
		}
		colScale, bias := randSlice(rng, cols), randSlice(rng, cols)
		for _, withCol := range []bool{false, true} {
			cs, b := colScale, bias
			if !withCol {
				cs, b = nil, nil
			}
			dst := make([]float32, rows*cols)
			if err := DequantizeI32(pool, dst, src, rows, cols, 0.001, cs, b); err != nil {
				t.Fatal(err)
			}
			for i, v := range src {
				want := float64(v) * float64(float32(0.001))
				if cs != nil {
					want = want*float64(cs[i%cols]) + float64(b[i%cols])
				}
				if d := math.Abs(float64(dst[i]) - want); d > 4e-7*(math.Abs(want)+math.Abs(float64(v)*0.001)) {
					t.Fatalf("%d×%d: dst[%d] = %g, want %g", rows, cols, i, dst[i], want)
				}
			}
		}
	}
}

// TestDequantizeRow checks dequantTile, GemmU8Linear's epilogue, on one
// row (the vector path and its tail) against the two float32 roundings of
// Cast → Mul → Add, bit for bit.
func TestDequantizeRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 1))
	for _, n := range []int{1, 7, 8, 33, 768} {
		src := make([]int32, n)
		for i := range src {
			src[i] = int32(rng.IntN(1<<24)) - 1<<23
		}
		colScale, bias := randSlice(rng, n), randSlice(rng, n)
		for _, b := range [][]float32{nil, bias} {
			dst := make([]float32, n)
			dequantTile(dst, n, src, n, 1, n, colScale, b, nil, 0)
			for j, v := range src {
				prod := float32(float32(v) * colScale[j]) // rounded: no fused multiply-add (arm64 fuses otherwise)
				want := prod
				if b != nil {
					want = prod + b[j]
				}
				if dst[j] != want {
					t.Fatalf("n=%d bias=%v: dst[%d] = %g, want %g", n, b != nil, j, dst[j], want)
				}
			}
		}
	}
}

// TestDynamicQuantizeU8 checks the one-call range and quantisation
// against the definition, in float64 on the float32 quotient: the range
// is min(0, x…), max(0, x…) without NaNs, and each value is quantized
// with the parameters of the whole range — on one thread and split over
// two (inputs above and below the split threshold, a NaN and the extremes
// in the second thread's share), and not at all when params refuses.
func TestDynamicQuantizeU8(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	params := func(lo, hi float32) (float32, uint8, bool) {
		s := (hi - lo) / 255
		if !(s > 0) {
			return 0, 0, false
		}
		return s, uint8(math.RoundToEven(float64(-lo / s))), true
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 33, 1000, 2*elementwiseChunk + 77, 5 * elementwiseChunk} {
		for _, p := range []*Pool{nil, pool} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			x[n-1] = 9.5 // the maximum, in the last share
			if n > 2 {
				x[n-2] = float32(math.NaN())
				x[n/2+1] = -7.25 // the minimum
			}
			lo, hi := float32(0), float32(0)
			for _, v := range x {
				if v == v {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
			y := make([]uint8, n)
			gotLo, gotHi, ok := DynamicQuantizeU8(p, y, x, params)
			if gotLo != lo || gotHi != hi || !ok {
				t.Fatalf("n=%d: range [%v, %v] ok %v, want [%v, %v] true", n, gotLo, gotHi, ok, lo, hi)
			}
			scale, zero, _ := params(lo, hi)
			for i, v := range x {
				q := float64(v / scale)
				want := 0.0
				if !math.IsNaN(q) {
					want = math.Min(math.Max(math.RoundToEven(q)+float64(zero), 0), 255)
				}
				if float64(y[i]) != want {
					t.Fatalf("n=%d threads=%d: y[%d] = %d for %v, want %g", n, p.Threads(), i, y[i], v, want)
				}
			}
			zeros := make([]float32, n)
			y[0] = 7
			if _, _, ok := DynamicQuantizeU8(p, y, zeros, params); ok || y[0] != 7 {
				t.Fatalf("n=%d: an all-zero input (scale 0) was quantized", n)
			}
		}
	}
}
