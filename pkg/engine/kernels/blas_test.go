package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The BLAS type must be accepted by gorgonia.Use.
var _ gorgonia.BLAS = (*BLAS)(nil)

func TestBLASSgemmMatchesReference(t *testing.T) {
	b := NewBLAS(nil)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []gemmCase{
		{transA: false, transB: true, m: 50, n: 50, k: 64, padA: 128, padB: 128, alpha: 0.125, beta: 0},
		{transA: true, transB: false, m: 9, n: 31, k: 17, alpha: 1, beta: 1},
	} {
		runGemmCase(t, rng, tc, func(tc gemmCase, a []float32, lda int, bm []float32, ldb int, c []float32, ldc int) {
			ta, tb := blas.NoTrans, blas.NoTrans
			if tc.transA {
				ta = blas.Trans
			}
			if tc.transB {
				tb = blas.ConjTrans
			}
			b.Sgemm(ta, tb, tc.m, tc.n, tc.k, tc.alpha, a, lda, bm, ldb, tc.beta, c, ldc)
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("Sgemm accepted an illegal transpose flag")
		}
	}()
	b.Sgemm(blas.Transpose('x'), blas.NoTrans, 1, 1, 1, 1, []float32{1}, 1, []float32{1}, 1, 0, []float32{0}, 1)
}

// countingBLAS counts the Sgemm calls reaching our BLAS.
type countingBLAS struct {
	*BLAS
	sgemmCalls int
}

func (c *countingBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cm []float32, ldc int) {
	c.sgemmCalls++
	c.BLAS.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc)
}

// TestGorgoniaUsesBLAS runs a transposed product through a Gorgonia graph
// with our BLAS installed: the product must reach our Sgemm and match the
// float64 triple loop.
func TestGorgoniaUsesBLAS(t *testing.T) {
	prev := gorgonia.WhichBLAS()
	counting := &countingBLAS{BLAS: NewBLAS(nil)}
	gorgonia.Use(counting)
	defer gorgonia.Use(prev)
	const m, n, k = 5, 7, 19
	rng := rand.New(rand.NewPCG(7, 8))
	av, bv := randSlice(rng, m*k), randSlice(rng, n*k)
	g := gorgonia.NewGraph()
	a := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(m, k), gorgonia.WithValue(tensor.New(tensor.WithShape(m, k), tensor.WithBacking(av))))
	bt := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(n, k), gorgonia.WithValue(tensor.New(tensor.WithShape(n, k), tensor.WithBacking(bv))))
	prod := gorgonia.Must(gorgonia.Mul(a, gorgonia.Must(gorgonia.Transpose(bt))))
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if counting.sgemmCalls == 0 {
		t.Fatal("Gorgonia's MatMul did not call the installed BLAS's Sgemm")
	}
	got := prod.Value().Data().([]float32)
	want, mag := refGemm(false, true, m, n, k, 1, av, k, bv, k, 0, nil, n)
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > 1e-6*mag[i]*k {
			t.Fatalf("A·Bᵀ[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}
