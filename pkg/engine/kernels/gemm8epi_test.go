package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// unfusedQLinear is the int8 Linear as the unfused graph computes it, the
// reference for GemmU8Linear: the exact int32 sums (int64 loops), then per
// element Cast → Mul(colScale) → Add(bias) in float32, the activation on
// whole rows of Y (as a separate activation node runs), then Add(res).
func unfusedQLinear(lv *isaKernels, m, n, k int, a []uint8, lda int, aZero uint8, b []byte, ldb int, signed bool, zero []int32, colScale []float32, ep Epilogue) []float32 {
	y := make([]float32, m*n)
	for i := range m {
		row := y[i*n : (i+1)*n]
		for j := range n {
			sum := refSum8(i, j, k, a, lda, aZero, b, ldb, signed, zero)
			v := float32(float32(int32(sum)) * colScale[j])
			if ep.Bias != nil {
				v = float32(v + ep.Bias[j])
			}
			row[j] = v
		}
		act := Epilogue{Act: ep.Act}
		act.apply(lv, row, n, 0, 1, 0, n)
		if ep.Residual != nil {
			for j := range row {
				row[j] = float32(row[j] + ep.Residual[i*ep.LdResidual+j])
			}
		}
	}
	return y
}

// TestGemmU8Linear checks the fused epilogue of every int8 kernel (the
// pair kernel on 7-bit weights) bit for bit against the unfused steps, on
// one and several K blocks, full and partial tiles, each activation, with
// and without bias and residual; Y's padding columns stay untouched.
func TestGemmU8Linear(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	lv := pool.level()
	rng := rand.New(rand.NewPCG(31, 1))
	acts := []Activation{ActNone, ActQuickGELU, ActGELU, ActGELUTanh, ActReLU}
	for _, s := range [][3]int{{1, 1, 1}, {7, 17, 3}, {6, 32, 64}, {12, 24, 16}, {9, 75, 100}, {50, 64, 768}, {13, 40, 1031}, {61, 100, 2050}, {8, 40, 4099}} {
		m, n, k := s[0], s[1], s[2]
		signed := m%2 == 0
		lda, ldb, ldy, ldr := k+1, n+2, n+3, n+5
		a, b := make([]uint8, m*lda), make([]byte, k*ldb)
		for i := range a {
			a[i] = uint8(rng.IntN(256))
		}
		for i := range b {
			// 7-bit (B' within ±64), so the pair kernel runs too.
			b[i] = byte(rng.IntN(129) + 64)
			if signed {
				b[i] = byte(int8(rng.IntN(129) - 64))
			}
		}
		aZero := uint8(rng.IntN(256))
		zero := make([]int32, n)
		for j := range zero {
			zero[j] = int32(rng.IntN(256))
			if signed {
				zero[j] -= 128
			}
		}
		// Scales that put most results within ±3 standard deviations
		// of 3, where the activations are not yet linear or zero.
		colScale, bias := make([]float32, n), randSlice(rng, n)
		for j := range colScale {
			colScale[j] = float32(8e-4 / math.Sqrt(float64(k)) * (0.5 + rng.Float64()))
		}
		res := randSlice(rng, m*ldr)
		for ci, act := range acts {
			for combo := range 4 {
				ep := Epilogue{Act: act}
				if combo&1 != 0 {
					ep.Bias = bias
				}
				if combo&2 != 0 {
					ep.Residual, ep.LdResidual = res, ldr
				}
				if (ci+combo)%2 == 1 && k > 100 {
					continue // half the combinations on the large shapes
				}
				want := unfusedQLinear(lv, m, n, k, a, lda, aZero, b, ldb, signed, zero, colScale, ep)
				for name, kern := range gemm8Cases() {
					pb, err := kern.pack(k, n, b, ldb, signed, zero)
					if err != nil {
						t.Fatal(err)
					}
					y := make([]float32, m*ldy)
					for i := range y {
						y[i] = -7
					}
					epi := &gemm8Epi{lv: lv, y: y, ldy: ldy, scale: colScale, ep: ep}
					if err := gemmU8(pool, kern.kern, kern.runQuad, kern.pairQuad, kern.pairQuadF, m, a, lda, aZero, pb, nil, n, epi); err != nil {
						t.Fatal(err)
					}
					what := fmt.Sprintf("%s m,n,k=%d,%d,%d %v bias=%v res=%v", name, m, n, k, act, ep.Bias != nil, ep.Residual != nil)
					checkQLinear(t, what, y, ldy, want, m, n)
				}
			}
		}
	}
}

// checkQLinear compares the m×n Y (row stride ldy) with want bit for bit
// and checks Y's padding columns kept their -7.
func checkQLinear(t *testing.T, what string, y []float32, ldy int, want []float32, m, n int) {
	t.Helper()
	for i := range m {
		for j := range ldy {
			got := y[i*ldy+j]
			if j >= n {
				if got != -7 {
					t.Fatalf("%s: padding Y[%d,%d] written", what, i, j)
				}
				continue
			}
			if w := want[i*n+j]; math.Float32bits(got) != math.Float32bits(w) {
				t.Fatalf("%s: Y[%d,%d] = %g, want %g", what, i, j, got, w)
			}
		}
	}
}

// TestGemmU8LinearPublic runs the exported entry point (the Pool's level,
// weights packed as the CPU prefers) and its argument checks.
func TestGemmU8LinearPublic(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(32, 1))
	const m, n, k = 77, 96, 2048 // the text tower's fc2 at batch 1: two K blocks
	a, b := make([]uint8, m*k), make([]byte, k*n)
	for i := range a {
		a[i] = uint8(rng.IntN(256))
	}
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	for _, narrow := range []bool{false, true} {
		if narrow {
			for i := range b {
				b[i] = byte(rng.IntN(129) - 64)
			}
		}
		zero := []int32{3}
		pb, err := PackB8(k, n, b, n, true, zero)
		if err != nil {
			t.Fatal(err)
		}
		colScale := make([]float32, n)
		for j := range colScale {
			colScale[j] = 2e-5
		}
		res := randSlice(rng, m*n)
		ep := Epilogue{Bias: randSlice(rng, n), Act: ActGELU, Residual: res, LdResidual: n}
		y := make([]float32, m*n)
		for i := range y {
			y[i] = -7
		}
		if err := GemmU8Linear(pool, m, a, k, 9, pb, colScale, ep, y, n); err != nil {
			t.Fatal(err)
		}
		want := unfusedQLinear(pool.level(), m, n, k, a, k, 9, b, n, true, zero, colScale, ep)
		checkQLinear(t, fmt.Sprintf("GemmU8Linear narrow=%v", narrow), y, n, want, m, n)
		if err := GemmU8Linear(pool, m, a, k, 9, pb, colScale, Epilogue{Residual: y, LdResidual: n}, y, n); err == nil {
			t.Error("GemmU8Linear accepted a residual overlapping Y")
		}
		if err := GemmU8Linear(pool, m, a, k, 9, pb, colScale[1:], Epilogue{}, y, n); err == nil {
			t.Error("GemmU8Linear accepted n-1 scales")
		}
	}
}

// TestDequantTile checks the vector strip epilogue routines (dequantTile,
// storeTile) against their Go twins bit for bit, with and without bias
// and residual, on rows of 8..40 columns.
func TestDequantTile(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2 on this CPU")
	}
	rng := rand.New(rand.NewPCG(33, 1))
	const rows, lds, ldd, ldr = 6, 41, 43, 45
	src := make([]int32, rows*lds)
	for i := range src {
		src[i] = int32(rng.Uint32())
	}
	scale, bias, res := randSlice(rng, 40), randSlice(rng, 40), randSlice(rng, rows*ldr)
	for cols := 8; cols <= 40; cols += 8 {
		for combo := range 4 {
			var b, r []float32
			if combo&1 != 0 {
				b = bias
			}
			if combo&2 != 0 {
				r = res
			}
			got, want := make([]float32, rows*ldd), make([]float32, rows*ldd)
			dequantTileAVX2(&got[0], ldd, &src[0], lds, rows, cols, &scale[0], ptrOrNil(b), ptrOrNil(r), ldr)
			dequantTileGo(want, ldd, src, lds, rows, cols, scale, b, r, ldr)
			sameBits(t, fmt.Sprintf("dequantTile cols=%d bias=%v res=%v", cols, b != nil, r != nil), got, want)
			if b == nil {
				// storeTile, on the floats just made.
				got2, want2 := make([]float32, rows*ldd), make([]float32, rows*ldd)
				storeTileAVX2(&got2[0], ldd, &want[0], ldd, rows, cols, ptrOrNil(r), ldr)
				storeTileGo(want2, ldd, want, ldd, rows, cols, r, ldr)
				sameBits(t, fmt.Sprintf("storeTile cols=%d res=%v", cols, r != nil), got2, want2)
			}
		}
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %g, want %g", what, i, got[i], want[i])
		}
	}
}
