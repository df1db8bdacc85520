package kernels

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkViTLayer runs one CLIP ViT-B/32 encoder layer at batch 8 (400
// tokens × 768, 12 heads, MLP 3072) from these kernels alone — the floor
// the engine's per-layer time can approach:
//
//	h = x + proj(attn(LN1(x)))
//	y = h + fc2(QuickGELU(fc1(LN2(h))))
func BenchmarkViTLayer(b *testing.B) {
	const (
		tokens = 8 * 50
		width  = 768
		heads  = 12
		hidden = 3072
	)
	rng := rand.New(rand.NewPCG(1, 1))
	pack := func(k, n int) *PackedB {
		w := randSlice(rng, k*n)
		for i := range w {
			w[i] *= 0.02
		}
		pb, err := PackB(true, k, n, w, k)
		if err != nil {
			b.Fatal(err)
		}
		return pb
	}
	wQKV, wProj, wFC1, wFC2 := pack(width, 3*width), pack(width, width), pack(width, hidden), pack(hidden, width)
	bQKV, bProj, bFC1, bFC2 := randSlice(rng, 3*width), randSlice(rng, width), randSlice(rng, hidden), randSlice(rng, width)
	g1, be1, g2, be2 := randSlice(rng, width), randSlice(rng, width), randSlice(rng, width), randSlice(rng, width)
	x := randSlice(rng, tokens*width)
	ln := make([]float32, tokens*width)
	qkv := make([]float32, tokens*3*width)
	att := make([]float32, tokens*width)
	h := make([]float32, tokens*width)
	mlp := make([]float32, tokens*hidden)
	y := make([]float32, tokens*width)
	flops := 2.0 * tokens * (width*3*width + width*width + 2*width*hidden)
	flops += 2 * 2 * 8 * heads * 50 * 50 * (width / heads)
	shape := AttentionShape{Batch: 8, Seq: 50, Heads: heads, HeadDim: width / heads, LdQ: 3 * width, LdK: 3 * width, LdV: 3 * width, LdOut: width}
	layer := func(p *Pool) {
		must := func(err error) {
			if err != nil {
				b.Fatal(err)
			}
		}
		must(LayerNorm(p, ln, x, tokens, width, g1, be1, 1e-5))
		must(Linear(p, tokens, ln, width, wQKV, Epilogue{Bias: bQKV}, qkv, 3*width))
		must(Attention(p, shape, qkv, qkv[width:], qkv[2*width:], 0.125, nil, false, att))
		must(Linear(p, tokens, att, width, wProj, Epilogue{Bias: bProj, Residual: x, LdResidual: width}, h, width))
		must(LayerNorm(p, ln, h, tokens, width, g2, be2, 1e-5))
		must(Linear(p, tokens, ln, width, wFC1, Epilogue{Bias: bFC1, Act: ActQuickGELU}, mlp, hidden))
		must(Linear(p, tokens, mlp, hidden, wFC2, Epilogue{Bias: bFC2, Residual: h, LdResidual: width}, y, width))
	}
	pool := NewPool(2)
	defer pool.Close()
	b.Run("threads=2", func(b *testing.B) {
		b.ReportAllocs()
		benchParallel(b, flops, func() { layer(pool) })
	})
	b.Run("threads=1", func(b *testing.B) {
		b.ReportAllocs()
		benchCPU(b, flops, func() { layer(nil) })
	})
}
