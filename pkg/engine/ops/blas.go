package ops

import (
	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/graph"
)

// Env is what kernels share across the steps of a session: the worker
// pool the packed GEMM splits its work over.
type Env struct {
	Pool *kernels.Pool
}

// Eval is the package-level Eval running its matrix products on e's pool.
func (e *Env) Eval(s *graph.Step, in, out []*graph.Tensor) error {
	return evalEnv(e, s, in, out)
}

// sgemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices.
func (e *Env) sgemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	var p *kernels.Pool
	if e != nil {
		p = e.Pool
	}
	kernels.Sgemm(p, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
