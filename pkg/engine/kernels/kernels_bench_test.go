package kernels

import (
	"math/rand/v2"
	"testing"
)

// Benchmarks of the row and elementwise kernels at ViT-B/32 batch-8 sizes
// (400 tokens × 768 features; MLP hidden 400 × 3072; 8×12 heads of 50×64).

func BenchmarkExp(b *testing.B) {
	x := randSlice(rand.New(rand.NewPCG(1, 1)), 400*3072)
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		Exp(y, x)
	}
}

func BenchmarkQuickGELU(b *testing.B) {
	x := randSlice(rand.New(rand.NewPCG(1, 1)), 400*3072)
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		QuickGELU(y, x)
	}
}

func BenchmarkLayerNorm(b *testing.B) {
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	x, g, bt := randSlice(rng, 400*768), randSlice(rng, 768), randSlice(rng, 768)
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		_ = LayerNorm(pool, y, x, 400, 768, g, bt, 1e-5)
	}
}

func BenchmarkSoftmax(b *testing.B) {
	pool := NewPool(2)
	defer pool.Close()
	x := randSlice(rand.New(rand.NewPCG(1, 1)), 96*50*50)
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		_ = Softmax(pool, y, x, 96*50, 50)
	}
}

func BenchmarkAttention(b *testing.B) {
	pool := NewPool(2)
	defer pool.Close()
	const batch, seq, heads, dim = 8, 50, 12, 64
	w := heads * dim
	qkv := randSlice(rand.New(rand.NewPCG(1, 1)), batch*seq*3*w)
	out := make([]float32, batch*seq*w)
	s := AttentionShape{Batch: batch, Seq: seq, Heads: heads, HeadDim: dim, LdQ: 3 * w, LdK: 3 * w, LdV: 3 * w, LdOut: w}
	flops := float64(batch*heads) * 2 * 2 * seq * seq * dim
	b.Run("threads=2", func(b *testing.B) {
		benchParallel(b, flops, func() { _ = Attention(pool, s, qkv, qkv[w:], qkv[2*w:], 0.125, nil, false, out) })
	})
	b.Run("threads=1", func(b *testing.B) {
		benchCPU(b, flops, func() { _ = Attention(nil, s, qkv, qkv[w:], qkv[2*w:], 0.125, nil, false, out) })
	})
}

// BenchmarkAttentionCausal is the CLIP text tower's attention: 77 tokens,
// 8 heads of 64, causal, batch 8.
func BenchmarkAttentionCausal(b *testing.B) {
	const batch, seq, heads, dim = 8, 77, 8, 64
	w := heads * dim
	qkv := randSlice(rand.New(rand.NewPCG(1, 1)), batch*seq*3*w)
	out := make([]float32, batch*seq*w)
	s := AttentionShape{Batch: batch, Seq: seq, Heads: heads, HeadDim: dim, LdQ: 3 * w, LdK: 3 * w, LdV: 3 * w, LdOut: w}
	// The work a dense attention does; the causal one skips part of it.
	flops := float64(batch*heads) * 2 * 2 * seq * seq * dim
	benchCPU(b, flops, func() { _ = Attention(nil, s, qkv, qkv[w:], qkv[2*w:], 0.125, nil, true, out) })
}

// BenchmarkAttentionHeads compares, on one thread (GFLOP/s-cpu of thread
// CPU time, counting the dense products), attentionHeadPacked with its
// Sgemm-based twin on the towers' attention shapes at batch 8: ViT-B/32
// vision (50 tokens, 12 heads), CLIP text (77 causal tokens, 8 heads),
// SigLIP base text (64 tokens, 12 heads).
func BenchmarkAttentionHeads(b *testing.B) {
	for _, c := range []struct {
		name            string
		seq, heads, dim int
		causal          bool
	}{{"vit-vision-50", 50, 12, 64, false}, {"clip-text-77-causal", 77, 8, 64, true}, {"siglip-text-64", 64, 12, 64, false}} {
		const batch = 8
		w := c.heads * c.dim
		qkv := randSlice(rand.New(rand.NewPCG(1, 1)), batch*c.seq*3*w)
		out := make([]float32, batch*c.seq*w)
		s := AttentionShape{Batch: batch, Seq: c.seq, Heads: c.heads, HeadDim: c.dim, LdQ: 3 * w, LdK: 3 * w, LdV: 3 * w, LdOut: w}
		flops := float64(batch*c.heads) * 2 * 2 * float64(c.seq*c.seq*c.dim)
		for _, packed := range []bool{true, false} {
			name := c.name + "/sgemm"
			if packed {
				name = c.name + "/packed"
			}
			b.Run(name, func(b *testing.B) {
				benchCPU(b, flops, func() { _ = attention(nil, s, qkv, qkv[w:], qkv[2*w:], 0.125, nil, c.causal, out, packed) })
			})
		}
	}
}

// BenchmarkLinear is the MLP's first Linear with its QuickGELU epilogue.
func BenchmarkLinear(b *testing.B) {
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	const m, n, k = 400, 3072, 768
	x, w, bias := randSlice(rng, m*k), randSlice(rng, n*k), randSlice(rng, n)
	pb, err := PackB(true, k, n, w, k)
	if err != nil {
		b.Fatal(err)
	}
	y := make([]float32, m*n)
	b.Run("threads=2", func(b *testing.B) {
		benchParallel(b, 2*m*n*k, func() { _ = Linear(pool, m, x, k, pb, Epilogue{Bias: bias, Act: ActQuickGELU}, y, n) })
	})
	b.Run("threads=1", func(b *testing.B) {
		benchCPU(b, 2*m*n*k, func() { _ = Linear(nil, m, x, k, pb, Epilogue{Bias: bias, Act: ActQuickGELU}, y, n) })
	})
}

// BenchmarkDynamicQuantizeU8 is DynamicQuantizeLinear's work on an MLP
// activation (range, then quantize, in one parallel call).
func BenchmarkDynamicQuantizeU8(b *testing.B) {
	pool := NewPool(2)
	defer pool.Close()
	x := randSlice(rand.New(rand.NewPCG(1, 1)), 400*3072)
	y := make([]uint8, len(x))
	params := func(lo, hi float32) (float32, uint8, bool) { return (hi - lo) / 255, 128, true }
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		DynamicQuantizeU8(pool, y, x, params)
	}
}

// BenchmarkPackB is the load-time cost of packing one MLP weight
// (768×3072), plain (ONNX MatMul [K,N]) and transposed (Gemm transB).
func BenchmarkPackB(b *testing.B) {
	w := randSlice(rand.New(rand.NewPCG(1, 1)), 768*3072)
	b.SetBytes(int64(4 * len(w)))
	b.Run("KxN", func(b *testing.B) {
		for b.Loop() {
			if _, err := PackB(false, 768, 3072, w, 3072); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("NxK", func(b *testing.B) {
		for b.Loop() {
			if _, err := PackB(true, 768, 3072, w, 768); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGELU is the erf GELU (OpenCLIP's MLP activation) on the MLP's
// shape, beside QuickGELU's, in values per second of thread CPU time
// (Gvalues/s-cpu) as well as of wall time.
func BenchmarkGELU(b *testing.B) {
	x := randSlice(rand.New(rand.NewPCG(1, 1)), 400*3072)
	y := make([]float32, len(x))
	for _, c := range []struct {
		name string
		fn   func(dst, src []float32)
	}{{"GELU", GELU}, {"QuickGELU", QuickGELU}, {"GELUTanh", GELUTanh}} {
		b.Run(c.name, func(b *testing.B) {
			benchCPUUnit(b, float64(len(x)), "Gvalues/s", func() { c.fn(y, x) })
		})
	}
}

// BenchmarkGemmU8LinearStrip times GemmU8Linear's epilogue of one
// 300×32 column strip (dequantize, bias, activation, into Y of 2048
// columns): the vector routines against their Go twins.
func BenchmarkGemmU8LinearStrip(b *testing.B) {
	const rows, cols, n = gemmMC, gemmQW, 2048
	rng := rand.New(rand.NewPCG(2, 1))
	var st gemm8Strip
	for i := range st.sums {
		st.sums[i] = int32(rng.IntN(1<<20)) - 1<<19
	}
	scale, bias := randSlice(rng, n), randSlice(rng, n)
	y := make([]float32, rows*n)
	for _, act := range []Activation{ActNone, ActGELU} {
		e := &gemm8Epi{lv: &isaTable[ISANative], y: y, ldy: n, scale: scale, ep: Epilogue{Bias: bias, Act: act}}
		b.Run(act.String()+"/vector", func(b *testing.B) {
			benchCPUUnit(b, rows*cols, "Gvalues/s", func() { e.strip(st.sums[:], cols, 0, rows, 0, cols, &st.f) })
		})
		// The Go twins, with the activation at ISAGeneric.
		b.Run(act.String()+"/go", func(b *testing.B) {
			benchCPUUnit(b, rows*cols, "Gvalues/s", func() {
				dequantTileGo(st.f[:], cols, st.sums[:], cols, rows, cols, scale, bias, nil, 0)
				(&Epilogue{Act: act}).apply(&isaTable[ISAGeneric], st.f[:], rows*cols, 0, 1, 0, rows*cols)
				storeTileGo(y, n, st.f[:], cols, rows, cols, nil, 0)
			})
		})
	}
}

// BenchmarkPackAQuad packs A for the quad GEMM as the int8 CLIP text tower
// does (batch 8 × 77 tokens, K 512 and the MLP's 2048; one K block): every
// full 6-row panel with its row sums, in GB/s of A, the vector packer
// beside its Go twin. "dram" is 32 such batches, A and the packed copy
// 40 MB each, past a 32 MB L3: the bound when A comes from memory.
func BenchmarkPackAQuad(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		name string
		m, k int
	}{{"k512", 8 * 77, 512}, {"k2048", 8 * 77, 2048}, {"k2048/dram", 32 * 8 * 77, 2048}} {
		m, k := c.m, c.k
		a := make([]uint8, m*k)
		for i := range a {
			a[i] = uint8(rng.Uint32())
		}
		d := make([]uint8, ceilDiv(m, gemmMR)*gemmMR*k)
		rs := make([]int32, ceilDiv(m, gemmMR)*gemmMR)
		for name, pack := range quad6Packers() {
			b.Run(c.name+"/"+name, func(b *testing.B) {
				benchCPUUnit(b, float64(m/gemmMR*gemmMR*k), "GB/s", func() {
					for q := range m / gemmMR {
						pack(d[q*gemmMR*k:(q+1)*gemmMR*k], rs[q*gemmMR:], a[q*gemmMR*k:], k, k)
					}
				})
			})
		}
	}
}
