package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestConvViaIm2col checks Im2col+Sgemm against a direct float64 convolution.
func TestConvViaIm2col(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 1))
	for _, g := range []ConvGeom{
		{C: 3, H: 64, W: 64, KH: 32, KW: 32, StrideH: 32, StrideW: 32, DilH: 1, DilW: 1}, // ViT-B/32 patches
		{C: 2, H: 7, W: 9, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1},
		{C: 1, H: 8, W: 5, KH: 2, KW: 3, StrideH: 2, StrideW: 3, DilH: 2, DilW: 1, PadTop: 0, PadLeft: 2, PadBottom: 3, PadRight: 1},
		{C: 1, H: 1, W: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1},
	} {
		const M = 5
		oh, ow := g.OutSize()
		src := randSlice(rng, g.C*g.H*g.W)
		w := randSlice(rng, M*g.C*g.KH*g.KW)
		col := make([]float32, g.C*g.KH*g.KW*oh*ow)
		if err := Im2col(g, src, col); err != nil {
			t.Fatal(err)
		}
		K := g.C * g.KH * g.KW
		out := make([]float32, M*oh*ow)
		Sgemm(nil, false, false, M, oh*ow, K, 1, w, K, col, oh*ow, 0, out, oh*ow)
		for m := range M {
			for y := range oh {
				for x := range ow {
					var want float64
					for c := range g.C {
						for kh := range g.KH {
							for kw := range g.KW {
								iy := y*g.StrideH - g.PadTop + kh*g.DilH
								ix := x*g.StrideW - g.PadLeft + kw*g.DilW
								if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
									continue
								}
								want += float64(w[((m*g.C+c)*g.KH+kh)*g.KW+kw]) * float64(src[(c*g.H+iy)*g.W+ix])
							}
						}
					}
					if got := out[(m*oh+y)*ow+x]; math.Abs(float64(got)-want) > 1e-5*float64(K) {
						t.Fatalf("%+v: out[%d,%d,%d] = %g, want %g", g, m, y, x, got, want)
					}
				}
			}
		}
	}
	if err := Im2col(ConvGeom{C: 1, H: 2, W: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}, make([]float32, 4), nil); err == nil {
		t.Error("Im2col accepted a kernel larger than the input")
	}
}

func TestMatMulBatched(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(16, 1))
	for _, tc := range []struct {
		batch, m, n, k         int
		transA, transB         bool
		broadcastA, broadcastB bool
	}{
		{12, 50, 50, 64, false, true, false, false},
		{3, 7, 5, 9, true, false, true, false},
		{2, 130, 140, 150, false, false, false, true},
	} {
		sa, sb := tc.m*tc.k, tc.k*tc.n
		if tc.broadcastA {
			sa = 0
		}
		if tc.broadcastB {
			sb = 0
		}
		a := randSlice(rng, (tc.batch-1)*sa+tc.m*tc.k)
		b := randSlice(rng, (tc.batch-1)*sb+tc.k*tc.n)
		c := make([]float32, tc.batch*tc.m*tc.n)
		if err := MatMulBatched(pool, tc.batch, tc.transA, tc.transB, tc.m, tc.n, tc.k, a, sa, b, sb, c, tc.m*tc.n); err != nil {
			t.Fatal(err)
		}
		lda, ldb := tc.k, tc.n
		if tc.transA {
			lda = tc.m
		}
		if tc.transB {
			ldb = tc.k
		}
		for i := range tc.batch {
			want, mag := refGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, a[i*sa:], lda, b[i*sb:], ldb, 0, nil, tc.n)
			for j, w := range want {
				if got := c[i*tc.m*tc.n+j]; math.Abs(float64(got)-w) > 5e-7*float64(tc.k)*mag[j] {
					t.Fatalf("%+v: C[%d][%d] = %g, want %g", tc, i, j, got, w)
				}
			}
		}
	}
	if err := MatMulBatched(nil, 2, false, false, 2, 2, 2, make([]float32, 8), 4, make([]float32, 8), 4, make([]float32, 8), 2); err == nil {
		t.Error("MatMulBatched accepted overlapping outputs")
	}
}
