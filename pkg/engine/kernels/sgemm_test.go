package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refGemm is the textbook triple loop in float64: the independent
// reference every Sgemm variant is checked against. It also returns, per
// element of C, the magnitude Σ|alpha·a·b| + |beta·c| that bounds the
// float32 rounding error.
func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s, sa float64
			for p := range k {
				var av, bv float64
				if transA {
					av = float64(a[p*lda+i])
				} else {
					av = float64(a[i*lda+p])
				}
				if transB {
					bv = float64(b[j*ldb+p])
				} else {
					bv = float64(b[p*ldb+j])
				}
				s += av * bv
				sa += math.Abs(av * bv)
			}
			s *= float64(alpha)
			sa *= math.Abs(float64(alpha))
			if beta != 0 {
				cv := float64(c[i*ldc+j])
				s += float64(beta) * cv
				sa += math.Abs(float64(beta) * cv)
			}
			want[i*n+j], mag[i*n+j] = s, sa
		}
	}
	return want, mag
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	padA, padB     int // extra stride beyond the stored width
	padC           int
	alpha, beta    float32
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,pad=%d/%d/%d,alpha=%g,beta=%g", tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.padA, tc.padB, tc.padC, tc.alpha, tc.beta)
}

// runGemmCase runs one case through gemm and checks it against refGemm;
// with beta == 0 C starts as NaN, which must not leak into the result.
func runGemmCase(t *testing.T, rng *rand.Rand, tc gemmCase, gemm func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int)) {
	t.Helper()
	rowsA, colsA := tc.m, tc.k
	if tc.transA {
		rowsA, colsA = tc.k, tc.m
	}
	rowsB, colsB := tc.k, tc.n
	if tc.transB {
		rowsB, colsB = tc.n, tc.k
	}
	lda, ldb, ldc := max(1, colsA+tc.padA), max(1, colsB+tc.padB), max(1, tc.n+tc.padC)
	a := randSlice(rng, rowsA*lda)
	b := randSlice(rng, rowsB*ldb)
	c := randSlice(rng, tc.m*ldc)
	if tc.beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	orig := append([]float32(nil), c...)
	want, mag := refGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	gemm(tc, a, lda, b, ldb, c, ldc)
	bad := 0
	for i := range tc.m {
		for j := range ldc {
			got := c[i*ldc+j]
			if j >= tc.n { // padding must be untouched
				if math.Float32bits(got) != math.Float32bits(orig[i*ldc+j]) {
					t.Fatalf("%v: padding C[%d,%d] changed to %g", tc, i, j, got)
				}
				continue
			}
			w := want[i*tc.n+j]
			tol := 4*float64(tc.k+2)*float64(math.Nextafter32(1, 2)-1)*mag[i*tc.n+j] + 1e-30
			if d := math.Abs(float64(got) - w); !(d <= tol) {
				if bad++; bad < 5 {
					t.Errorf("%v: C[%d,%d] = %g, want %g (|diff| %g > tol %g)", tc, i, j, got, w, d, tol)
				}
			}
		}
	}
	if bad > 0 {
		t.FailNow()
	}
}

func gemmCases() []gemmCase {
	var cases []gemmCase
	shapes := [][3]int{
		{1, 1, 1}, {1, 17, 3}, {7, 1, 5}, {5, 9, 1}, {6, 16, 8}, {6, 16, 256}, {7, 17, 257},
		{13, 33, 65}, {50, 50, 64}, {50, 64, 50}, {37, 70, 300}, {67, 131, 300},
		{128, 96, 520}, {12, 4100, 3}, {1030, 20, 9}, {3, 20, 7}, {9, 33, 19}, {16, 16, 600},
	}
	for _, s := range shapes {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.75, 0.5}} {
				cases = append(cases, gemmCase{transA: tr[0], transB: tr[1], m: s[0], n: s[1], k: s[2], alpha: ab[0], beta: ab[1]})
			}
			cases = append(cases, gemmCase{transA: tr[0], transB: tr[1], m: s[0], n: s[1], k: s[2], padA: 3, padB: 5, padC: 7, alpha: 1.5, beta: 0})
			cases = append(cases, gemmCase{transA: tr[0], transB: tr[1], m: s[0], n: s[1], k: s[2], padA: 1, padB: 17, padC: 2, alpha: 2, beta: 0.5})
		}
	}
	return cases
}

func TestSgemm(t *testing.T) {
	kernelsUnderTest := map[string]gemmKernels{"generic": {one: kernelGeneric}}
	for name, k := range simdGemmKernels() {
		kernelsUnderTest[name] = k
	}
	if len(kernelsUnderTest) == 1 {
		t.Log("CPU lacks AVX2+FMA: only the generic micro-kernel is tested")
	}
	pool := NewPool(3) // an odd thread count exercises uneven splits
	defer pool.Close()
	for name, kern := range kernelsUnderTest {
		for _, p := range []*Pool{nil, pool} {
			t.Run(fmt.Sprintf("%s/threads=%d", name, p.Threads()), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, 2))
				for _, tc := range gemmCases() {
					runGemmCase(t, rng, tc, func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
						if err := checkGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, a, lda, b, ldb, c, ldc); err != nil {
							t.Fatal(err)
						}
						sgemm(p, kern, gemmOperands{transA: tc.transA, transB: tc.transB, m: tc.m, n: tc.n, k: tc.k, alpha: tc.alpha, a: a, lda: lda, b: b, ldb: ldb, beta: tc.beta, c: c, ldc: ldc})
					})
				}
			})
		}
	}
}

func TestSgemmPacked(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range gemmCases() {
		runGemmCase(t, rng, tc, func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
			pb, err := PackB(tc.transB, tc.k, tc.n, b, ldb)
			if err != nil {
				t.Fatal(err)
			}
			SgemmPacked(pool, tc.transA, tc.m, tc.alpha, a, lda, pb, tc.beta, c, ldc)
		})
	}
}

func TestSgemmZeroSizes(t *testing.T) {
	c := []float32{1, 2, 3, 4}
	// k == 0: C = beta·C.
	Sgemm(nil, false, false, 2, 2, 0, 1, nil, 1, nil, 2, 0.5, c, 2)
	if c[0] != 0.5 || c[3] != 2 {
		t.Fatalf("k=0, beta=0.5: C = %v, want [0.5 1 1.5 2]", c)
	}
	nan := float32(math.NaN())
	c = []float32{nan, nan}
	Sgemm(nil, false, false, 1, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
	if c[0] != 0 || c[1] != 0 {
		t.Fatalf("k=0, beta=0 over NaN: C = %v, want zeros", c)
	}
	Sgemm(nil, false, false, 0, 0, 5, 1, nil, 5, nil, 1, 0, nil, 1) // no-op
}

func TestSgemmRejectsBadArguments(t *testing.T) {
	for name, call := range map[string]func(){
		"short a": func() {
			Sgemm(nil, false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		},
		"small lda": func() {
			Sgemm(nil, false, false, 2, 2, 2, 1, make([]float32, 4), 1, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		},
		"short c": func() {
			Sgemm(nil, false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
		},
		"negative": func() { Sgemm(nil, false, false, -1, 2, 2, 1, nil, 2, nil, 2, 0, nil, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Sgemm did not panic", name)
				}
			}()
			call()
		}()
	}
	if _, err := PackB(false, 4, 4, make([]float32, 15), 4); err == nil {
		t.Error("PackB accepted a short slice")
	}
}
