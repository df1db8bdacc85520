package kernels

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLAS is gonum's pure-Go BLAS with Sgemm replaced by the packed SIMD
// Sgemm of this package. It satisfies gonum's blas.Float32, Float64,
// Complex64 and Complex128 interfaces, so gorgonia.Use(kernels.NewBLAS(p))
// makes Gorgonia's float32 matrix products (including the transposed and
// strided ones it passes, e.g. Q·Kᵀ) run here.
type BLAS struct {
	gonum.Implementation
	pool *Pool
}

// NewBLAS returns a BLAS whose Sgemm runs on p (nil: single-threaded).
func NewBLAS(p *Pool) *BLAS { return &BLAS{pool: p} }

// Sgemm implements blas.Float32 with the semantics of gonum's Sgemm,
// including its panics on invalid arguments.
func (b *BLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, ok := isTrans(tA)
	if !ok {
		panic("blas: illegal transpose")
	}
	tb, ok := isTrans(tB)
	if !ok {
		panic("blas: illegal transpose")
	}
	Sgemm(b.pool, ta, tb, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
}

// isTrans maps a BLAS transpose flag to a bool (real matrices: ConjTrans
// is Trans).
func isTrans(t blas.Transpose) (trans, ok bool) {
	switch t {
	case blas.NoTrans:
		return false, true
	case blas.Trans, blas.ConjTrans:
		return true, true
	}
	return false, false
}
