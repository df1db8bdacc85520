package ops

import (
	"sync"

	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/graph"
)

// Env is what kernels share across the steps of a session: the worker
// pool the packed GEMM splits its work over.
type Env struct {
	Pool *kernels.Pool

	mu sync.Mutex
	// packed caches weight matrices packed for the GEMM, keyed by the
	// first element of their (constant, never written) data.
	packed map[*float32]*kernels.PackedB
}

// packedB returns the k×n constant w packed once for kernels.Linear.
func (e *Env) packedB(w []float32, k, n int) (*kernels.PackedB, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if pb, ok := e.packed[&w[0]]; ok && pb.K() == k && pb.N() == n {
		return pb, nil
	}
	pb, err := kernels.PackB(false, k, n, w, n)
	if err != nil {
		return nil, err
	}
	if e.packed == nil {
		e.packed = map[*float32]*kernels.PackedB{}
	}
	e.packed[&w[0]] = pb
	return pb, nil
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
	kernels.Sgemm(e.pool(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// linear runs a fused graph.OpLinear step.
func (e *Env) linear(s *graph.Step, in []*graph.Tensor, o *graph.Tensor) error {
	x, w := in[0], in[1]
	k, n := w.Shape[0], w.Shape[1]
	m := x.Len() / k
	if e == nil {
		e = &Env{}
	}
	pb, err := e.packedB(w.Float32, k, n)
	if err != nil {
		return err
	}
	ep := kernels.Epilogue{}
	if len(in) > 2 && in[2] != nil {
		ep.Bias = in[2].Float32
	}
	if s.P.Act == graph.ActQuickGELU {
		ep.Act = kernels.ActQuickGELU
	}
	if len(in) > 3 && in[3] != nil {
		ep.Residual, ep.LdResidual = in[3].Float32, n
	}
	return kernels.Linear(e.pool(), m, x.Float32, k, pb, ep, o.Float32, n)
}

func (e *Env) pool() *kernels.Pool {
	if e == nil {
		return nil
	}
	return e.Pool
}
