package kernels

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSgemmStreaming times the batch-1 ViT Linear shapes (M = 50)
// over 12 distinct pre-packed weight matrices, as one image through the
// 12 layers sees them: the weights (113 MB per shape) come from memory,
// not from the caches that BenchmarkSgemm's single matrix stays in.
func BenchmarkSgemmStreaming(b *testing.B) {
	pool := NewPool(2)
	defer pool.Close()
	for _, s := range vitGemmShapes[4:6] {
		rng := rand.New(rand.NewPCG(1, 1))
		a, c := randSlice(rng, s.m*s.k), make([]float32, s.m*s.n)
		var pbs []*PackedB
		for range 12 {
			pb, err := PackB(false, s.k, s.n, randSlice(rng, s.k*s.n), s.n)
			if err != nil {
				b.Fatal(err)
			}
			pbs = append(pbs, pb)
		}
		flops := 12 * 2 * float64(s.m) * float64(s.n) * float64(s.k)
		run := func(p *Pool) func() {
			return func() {
				for _, pb := range pbs {
					SgemmPacked(p, false, s.m, 1, a, s.k, pb, 0, c, s.n)
				}
			}
		}
		b.Run(s.name+"/threads=2", func(b *testing.B) { benchParallel(b, flops, run(pool)) })
		b.Run(s.name+"/threads=1", func(b *testing.B) { benchCPU(b, flops, run(nil)) })
	}
}
