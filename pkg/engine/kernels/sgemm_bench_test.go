package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// vitGemmShapes are the products of a CLIP ViT-B/32 layer: M = 50 tokens ×
// batch 8 (or 1), the Linear layers 768→2304 (QKV), 768→768, 768→3072,
// 3072→768, and one head's attention products.
var vitGemmShapes = []struct {
	name           string
	m, n, k        int
	transA, transB bool
}{
	{"qkv_400x2304x768", 400, 2304, 768, false, true},
	{"proj_400x768x768", 400, 768, 768, false, true},
	{"fc1_400x3072x768", 400, 3072, 768, false, true},
	{"fc2_400x768x3072", 400, 768, 3072, false, true},
	{"fc1_50x3072x768", 50, 3072, 768, false, true},
	{"fc2_50x768x3072", 50, 768, 3072, false, true},
	{"attnQK_50x50x64", 50, 50, 64, false, true},
	{"attnPV_50x64x50", 50, 64, 50, false, false},
}

// BenchmarkSgemm reports GFLOP/s of our Sgemm (2 threads and 1) and of
// gonum's on the ViT shapes, and "%peak": wall GFLOP/s over threads ×
// MeasureFMAPeak (the vector width Sgemm uses), measured once up front.
// ours-LEVEL is the same on a Pool limited to each lower instruction-set
// level this CPU supports (ours-avx2: what an AVX2-only machine runs; its
// "%peak" is of MeasureFMAPeakAVX2, the ymm peak).
// Run `go test -bench Sgemm -count 5` on a quiet machine and take medians.
func BenchmarkSgemm(b *testing.B) {
	pool := NewPool(2)
	defer pool.Close()
	peak := MeasureFMAPeak(200 * time.Millisecond)
	b.Logf("FMA peak %.1f GFLOP/s per core", peak)
	peakYMM := MeasureFMAPeakAVX2(200 * time.Millisecond)
	var levels []*Pool // Pools of the lower levels, for ours-LEVEL
	for _, isa := range SupportedISAs() {
		// avx2vnni's float32 kernels are avx2's.
		if isa != pool.ISA() && isa != ISAAVX2VNNI {
			p, err := NewPoolWith(2, WithISA(isa))
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			levels = append(levels, p)
		}
	}
	reportPeak := func(b *testing.B, flops float64, threads int) {
		if peak > 0 {
			b.ReportMetric(100*flops*float64(b.N)/b.Elapsed().Seconds()/1e9/(float64(threads)*peak), "%peak")
		}
	}
	for _, s := range vitGemmShapes {
		rng := rand.New(rand.NewPCG(1, 1))
		lda, ldb := s.k, s.n
		if s.transB {
			ldb = s.k
		}
		a, bm, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), make([]float32, s.m*s.n)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		report := func(b *testing.B) {
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		}
		for _, threads := range []int{2, 1} {
			p := pool
			if threads == 1 {
				p = nil
			}
			b.Run(fmt.Sprintf("%s/ours/threads=%d", s.name, threads), func(b *testing.B) {
				if threads == 1 {
					benchCPU(b, flops, func() { Sgemm(p, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n) })
				} else {
					benchParallel(b, flops, func() { Sgemm(p, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n) })
				}
				reportPeak(b, flops, threads)
			})
		}
		pb, err := PackB(s.transB, s.k, s.n, bm, ldb)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.name+"/ours-prepacked/threads=2", func(b *testing.B) {
			benchParallel(b, flops, func() { SgemmPacked(pool, s.transA, s.m, 1, a, lda, pb, 0, c, s.n) })
			reportPeak(b, flops, 2)
		})
		b.Run(s.name+"/ours-prepacked/threads=1", func(b *testing.B) {
			benchCPU(b, flops, func() { SgemmPacked(nil, s.transA, s.m, 1, a, lda, pb, 0, c, s.n) })
			reportPeak(b, flops, 1)
		})
		for _, lp := range levels {
			b.Run(fmt.Sprintf("%s/ours-%v/threads=2", s.name, lp.ISA()), func(b *testing.B) {
				benchParallel(b, flops, func() { Sgemm(lp, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n) })
				if peakYMM > 0 {
					b.ReportMetric(100*flops*float64(b.N)/b.Elapsed().Seconds()/1e9/(2*peakYMM), "%peak")
				}
			})
			b.Run(fmt.Sprintf("%s/ours-prepacked-%v/threads=2", s.name, lp.ISA()), func(b *testing.B) {
				benchParallel(b, flops, func() { SgemmPacked(lp, s.transA, s.m, 1, a, lda, pb, 0, c, s.n) })
				if peakYMM > 0 {
					b.ReportMetric(100*flops*float64(b.N)/b.Elapsed().Seconds()/1e9/(2*peakYMM), "%peak")
				}
			})
		}
		b.Run(s.name+"/gonum", func(b *testing.B) {
			tb := blas.NoTrans
			if s.transB {
				tb = blas.Trans
			}
			for b.Loop() {
				gonum.Implementation{}.Sgemm(blas.NoTrans, tb, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
			}
			report(b)
		})
	}
}

// BenchmarkFMAPeak reports the register-only FMA peak of one core, the
// yardstick for the GFLOP/s of the other benchmarks.
func BenchmarkFMAPeak(b *testing.B) {
	if !hasAVX2FMA {
		b.Skip("no AVX2+FMA")
	}
	const iters = 1 << 16
	b.Run("ymm", func(b *testing.B) {
		benchCPU(b, iters*fmaPeakFlopsPerIter, func() { fmaPeakLoop(iters) })
	})
	if hasAVX512 {
		b.Run("zmm", func(b *testing.B) {
			benchCPU(b, 2*iters*fmaPeakFlopsPerIter, func() { fmaPeakLoop512(iters) })
		})
	}
}

// BenchmarkMicroKernel runs the 6×16 micro-kernel on L1-resident panels:
// the ceiling the blocked Sgemm can approach.
func BenchmarkMicroKernel(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	a, bp, c := randSlice(rng, gemmKC*gemmMR), randSlice(rng, gemmKC*gemmNR), make([]float32, gemmMR*64)
	kerns := map[string]microKernel{"generic": kernelGeneric}
	if hasAVX2FMA {
		kerns["avx2"] = activeKernels.one
	}
	for name, kern := range kerns {
		b.Run(name, func(b *testing.B) {
			benchCPU(b, 2*gemmKC*gemmMR*gemmNR, func() { kern(gemmMR, gemmKC, a, bp, c, 64, true) })
		})
	}
}

// BenchmarkGemmU8 times the MatMulInteger kernel on the ViT Linear shapes;
// GOP/s counts a multiply-add as 2 operations, comparable with GFLOP/s.
func BenchmarkGemmU8(b *testing.B) {
	pool := NewPool(2)
	defer pool.Close()
	for _, s := range vitGemmShapes[:6] {
		a := make([]uint8, s.m*s.k)
		w := make([]byte, s.k*s.n)
		for i := range a {
			a[i] = uint8(i * 7)
		}
		for i := range w {
			w[i] = byte(i * 13)
		}
		c := make([]int32, s.m*s.n)
		ops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		// int16: the VPMADDWD/VPDPWSSD layout; u8s8: VPDPBUSD (AVX-512 VNNI).
		// pair: 7-bit weights (|b−128| ≤ 64) on the VPMADDUBSW kernel.
		narrow := make([]byte, len(w))
		for i := range narrow {
			narrow[i] = byte(64 + i*13%129)
		}
		for _, layout := range []string{"int16", "u8s8", "pair"} {
			if layout == "u8s8" && !useQuad8 || layout == "pair" && isaTable[ISANative].pairQuad == nil {
				continue
			}
			pb, err := packB8(s.k, s.n, w, s.n, false, []int32{128}, layout == "u8s8")
			if layout == "pair" {
				pb, err = PackB8(s.k, s.n, narrow, s.n, false, []int32{128})
			}
			if err != nil {
				b.Fatal(err)
			}
			b.Run(s.name+"/"+layout+"/threads=2", func(b *testing.B) {
				for b.Loop() {
					if err := GemmU8(pool, s.m, a, s.k, 3, pb, c, s.n); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
			})
			b.Run(s.name+"/"+layout+"/threads=1", func(b *testing.B) {
				benchCPUUnit(b, ops, "GOP/s", func() { _ = GemmU8(nil, s.m, a, s.k, 3, pb, c, s.n) })
			})
		}
	}
}

// BenchmarkGemmU8Linear times the int8 Linear with its float epilogue
// fused into the GEMM tiles, on the text tower's (77 tokens, batch 8) and
// the vision tower's (batch 8) MLP and QKV shapes with 7-bit weights (the
// pair kernel).
func BenchmarkGemmU8Linear(b *testing.B) {
	pool := NewPool(2)
	defer pool.Close()
	shapes := []struct {
		name    string
		m, n, k int
		act     Activation
		res     bool
	}{
		{"text_qkv_616x1536x512", 616, 1536, 512, ActNone, false},
		{"text_fc1_616x2048x512_gelu", 616, 2048, 512, ActGELU, false},
		{"text_fc2_616x512x2048_res", 616, 512, 2048, ActNone, true},
		{"vision_fc1_400x3072x768_quickgelu", 400, 3072, 768, ActQuickGELU, false},
		{"vision_fc2_400x768x3072_res", 400, 768, 3072, ActNone, true},
	}
	for _, s := range shapes {
		a := make([]uint8, s.m*s.k)
		for i := range a {
			a[i] = uint8(i * 7)
		}
		w := make([]byte, s.k*s.n)
		for i := range w {
			w[i] = byte(64 + i*13%129)
		}
		pb, err := PackB8(s.k, s.n, w, s.n, false, []int32{128})
		if err != nil {
			b.Fatal(err)
		}
		scale := make([]float32, s.n)
		for j := range scale {
			scale[j] = 1e-5
		}
		ep := Epilogue{Bias: make([]float32, s.n), Act: s.act}
		if s.res {
			ep.Residual, ep.LdResidual = make([]float32, s.m*s.n), s.n
		}
		y := make([]float32, s.m*s.n)
		ops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		b.Run(s.name+"/threads=2", func(b *testing.B) {
			benchParallel(b, ops, func() {
				if err := GemmU8Linear(pool, s.m, a, s.k, 3, pb, scale, ep, y, s.n); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
