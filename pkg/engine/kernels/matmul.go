package kernels

import "fmt"

// MatMulBatched computes C[i] = op(A[i])·op(B[i]) for i < batch, where
// each operand is a dense row-major matrix (op(A) m×k, op(B) k×n, C m×n)
// and stride* is the distance in elements between consecutive matrices of
// a batch (0 broadcasts one matrix over the batch, as ONNX MatMul does).
// Small products run one per thread; large ones use all of p's threads.
func MatMulBatched(p *Pool, batch int, transA, transB bool, m, n, k int, a []float32, strideA int, b []float32, strideB int, c []float32, strideC int) error {
	if batch < 0 || m < 0 || n < 0 || k < 0 || strideA < 0 || strideB < 0 || strideC < 0 {
		return fmt.Errorf("kernels: MatMulBatched: negative size (batch %d, %d×%d×%d)", batch, m, n, k)
	}
	if batch == 0 || m == 0 || n == 0 {
		return nil
	}
	if batch > 1 && strideC < m*n {
		return fmt.Errorf("kernels: MatMulBatched: C stride %d < %d: outputs would overlap", strideC, m*n)
	}
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	lda, ldb = max(lda, 1), max(ldb, 1)
	last := batch - 1
	if need := last*strideA + m*k; k > 0 && len(a) < need {
		return fmt.Errorf("kernels: MatMulBatched: A has %d values, need %d", len(a), need)
	}
	if need := last*strideB + k*n; k > 0 && len(b) < need {
		return fmt.Errorf("kernels: MatMulBatched: B has %d values, need %d", len(b), need)
	}
	if need := last*strideC + m*n; len(c) < need {
		return fmt.Errorf("kernels: MatMulBatched: C has %d values, need %d", len(c), need)
	}
	one := func(i int, p *Pool) {
		Sgemm(p, transA, transB, m, n, k, 1, a[i*strideA:], lda, b[i*strideB:], ldb, 0, c[i*strideC:], n)
	}
	if 2*m*n*k >= gemmParallelFlops || batch == 1 {
		for i := range batch {
			one(i, p)
		}
		return nil
	}
	p.Parallel(batch, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			one(i, p.Serial()) // one thread, p's instruction-set level
		}
	})
	return nil
}
