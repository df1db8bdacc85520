package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestParseISA(t *testing.T) {
	for i := ISANative; i < numISA; i++ {
		got, err := ParseISA(i.String())
		if err != nil || got != i {
			t.Errorf("ParseISA(%q) = %v, %v; want %v", i.String(), got, err, i)
		}
	}
	if got, err := ParseISA(" AVX2 "); err != nil || got != ISAAVX2 {
		t.Errorf(`ParseISA(" AVX2 ") = %v, %v`, got, err)
	}
	if got, err := ParseISA(""); err != nil || got != ISANative {
		t.Errorf(`ParseISA("") = %v, %v`, got, err)
	}
	if _, err := ParseISA("sse9"); err == nil {
		t.Error(`ParseISA("sse9") accepted an unknown level`)
	}
}

// TestNewPoolWithISA checks that a level the CPU lacks is refused at
// construction and that a Pool reports the level it was given.
func TestNewPoolWithISA(t *testing.T) {
	if !ISAGeneric.Supported() || !ISANative.Supported() {
		t.Fatal("generic and native must always be supported")
	}
	for i := ISANative; i < numISA+1; i++ {
		p, err := NewPoolWith(2, WithISA(i))
		if !i.Supported() {
			if err == nil {
				p.Close()
				t.Errorf("NewPoolWith(WithISA(%v)) accepted a level this CPU lacks", i)
			}
			continue
		}
		if err != nil {
			t.Errorf("NewPoolWith(WithISA(%v)): %v", i, err)
			continue
		}
		if p.ISA() != i.Resolve() || p.Serial().ISA() != i.Resolve() || p.Serial().Threads() != 1 {
			t.Errorf("pool of %v reports %v (serial %v, %d threads)", i, p.ISA(), p.Serial().ISA(), p.Serial().Threads())
		}
		p.Close()
	}
	if NewPool(2).ISA() != ISANative.Resolve() || (*Pool)(nil).ISA() != ISANative.Resolve() {
		t.Error("NewPool and a nil Pool must use the native level")
	}
}

// TestPoolLevels runs the GEMMs through Pools of every supported level:
// SgemmPacked, MatMulBatched (small products, one per thread) and the int8
// GEMM on weights packed by PackB8 (the CPU's layout, converted when the
// level cannot read it) and by Pool.PackB8, against float64 and exact
// integer references.
func TestPoolLevels(t *testing.T) {
	for _, isa := range SupportedISAs() {
		t.Run(isa.String(), func(t *testing.T) {
			pool, err := NewPoolWith(2, WithISA(isa))
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			rng := rand.New(rand.NewPCG(5, uint64(isa)))
			for _, tc := range []gemmCase{{m: 50, n: 200, k: 130, alpha: 1}, {m: 131, n: 97, k: 600, alpha: 0.5, beta: 1}} {
				runGemmCase(t, rng, tc, func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
					pb, err := PackB(tc.transB, tc.k, tc.n, b, ldb)
					if err != nil {
						t.Fatal(err)
					}
					SgemmPacked(pool, tc.transA, tc.m, tc.alpha, a, lda, pb, tc.beta, c, ldc)
				})
			}
			testMatMulBatchedLevel(t, pool, rng)
			testGemmU8Level(t, pool, rng)
		})
	}
}

func testMatMulBatchedLevel(t *testing.T, pool *Pool, rng *rand.Rand) {
	const batch, m, n, k = 12, 50, 50, 64
	a, b := randSlice(rng, batch*m*k), randSlice(rng, batch*n*k)
	c := make([]float32, batch*m*n)
	if err := MatMulBatched(pool, batch, false, true, m, n, k, a, m*k, b, n*k, c, m*n); err != nil {
		t.Fatal(err)
	}
	for i := range batch {
		want, mag := refGemm(false, true, m, n, k, 1, a[i*m*k:], k, b[i*n*k:], k, 0, nil, n)
		for j, w := range want {
			if got := float64(c[i*m*n+j]); math.Abs(got-w) > 4*float64(k)*1.2e-7*mag[j]+1e-30 {
				t.Fatalf("MatMulBatched at %v: C[%d][%d] = %g, want %g", pool.ISA(), i, j, got, w)
			}
		}
	}
}

func testGemmU8Level(t *testing.T, pool *Pool, rng *rand.Rand) {
	const m, n, k = 61, 75, 1100 // two K blocks, partial panels
	a, b := make([]uint8, m*k), make([]byte, k*n)
	for i := range a {
		a[i] = uint8(rng.IntN(256))
	}
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	zero := make([]int32, n)
	for j := range zero {
		zero[j] = int32(rng.IntN(256)) - 128
	}
	const aZero = 131
	packers := map[string]func() (*PackedB8, error){
		"PackB8":      func() (*PackedB8, error) { return PackB8(k, n, b, n, true, zero) },
		"Pool.PackB8": func() (*PackedB8, error) { return pool.PackB8(k, n, b, n, true, zero) },
	}
	for name, pack := range packers {
		pb, err := pack()
		if err != nil {
			t.Fatal(err)
		}
		c := make([]int32, m*n)
		for range 2 { // the second call reuses a converted layout
			if err := GemmU8(pool, m, a, k, aZero, pb, c, n); err != nil {
				t.Fatal(err)
			}
			for i := range m {
				for j := range n {
					var want int64
					for p := range k {
						want += (int64(a[i*k+p]) - aZero) * (int64(int8(b[p*n+j])) - int64(zero[j]))
					}
					if got := c[i*n+j]; int64(got) != want {
						t.Fatalf("GemmU8 at %v, %s: C[%d,%d] = %d, want %d", pool.ISA(), name, i, j, got, want)
					}
				}
			}
		}
	}
}
