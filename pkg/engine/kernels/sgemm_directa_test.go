package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestSgemmPackedDirectA covers the products that read A in place
// (pre-packed B, alpha 1, N a multiple of 64, see gemmKernels.fourDirectA):
// full and partial last panels, K across packed blocks, padded rows of A
// and C, beta 0 and 1, and uneven thread splits, against refGemm.
func TestSgemmPackedDirectA(t *testing.T) {
	if activeKernels.fourDirectA == nil {
		t.Skip("no in-place-A kernel on this CPU")
	}
	pools := map[string]*Pool{"threads=1": nil, "threads=2": NewPool(2), "threads=3": NewPool(3)}
	for _, p := range pools {
		defer p.Close()
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var cases []gemmCase
	for _, m := range []int{6, 7, 12, 50, 200, 401} {
		for _, n := range []int{64, 128, 192} {
			for _, k := range []int{1, 3, 64, gemmKC + 7, 2*gemmKC + 1} {
				cases = append(cases,
					gemmCase{m: m, n: n, k: k, alpha: 1, beta: 0},
					gemmCase{m: m, n: n, k: k, padA: 5, padC: 3, alpha: 1, beta: 1})
			}
		}
	}
	for name, p := range pools {
		t.Run(name, func(t *testing.T) {
			for _, tc := range cases {
				runGemmCase(t, rng, tc, func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
					pb, err := PackB(false, tc.k, tc.n, b, ldb)
					if err != nil {
						t.Fatal(err)
					}
					SgemmPacked(p, false, tc.m, tc.alpha, a, lda, pb, tc.beta, c, ldc)
				})
			}
		})
	}
}
