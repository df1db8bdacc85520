package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// case8 is one way GemmU8 can run: the int16-layout kernels, the layout
// B is packed in (quad: uint8×int8 for VPDPBUSD) with its K block kq (0:
// gemm8KC) and whether the quad kernel may run, or the pair kernel.
type case8 struct {
	kern              gemm8Kernels
	packQuad, runQuad bool
	pairQuad          quadKernel
	pairQuadF         quadKernelF
	kq                int
}

// pack packs b as the case reads it.
func (c case8) pack(k, n int, b []byte, ldb int, signed bool, zero []int32) (*PackedB8, error) {
	kq := c.kq
	if kq == 0 {
		kq = gemm8KC
	}
	return packB8Blocks(k, n, b, ldb, signed, zero, c.packQuad, kq, nil)
}

// gemm8Cases lists every way GemmU8 runs on this CPU, by name.
func gemm8Cases() map[string]case8 {
	kerns := map[string]case8{"generic": {kern: gemm8Kernels{one: kernel8Generic}}}
	for name, k := range simdKernels8() {
		kerns[name] = case8{kern: k}
		if useQuad8 {
			// A quad-packed B (PackB8 on this CPU) multiplied by a Pool
			// whose level lacks AVX-512 VNNI: converted to int16 once.
			kerns[name+"/from-quad"] = case8{kern: k, packQuad: true}
		}
	}
	// "u8s8" is the VPDPBUSD path on the quad layout (the int16 kernels
	// are unused).
	if useQuad8 {
		kerns["u8s8"] = case8{packQuad: true, runQuad: true}
	}
	// "pair" is the VPMADDUBSW kernel on the quad layout: it runs on the
	// narrow (7-bit, pair-safe) weights; on the others B must fall back
	// to the int16 layout.
	if pq := isaTable[ISAAVX2].pairQuad; pq != nil {
		kerns["pair"] = case8{kern: isaTable[ISAAVX2].gemm8, packQuad: true, pairQuad: pq, kq: gemmPairKC}
		// The int8 Linear's tiles finished in the kernel's registers.
		kerns["pair/float"] = case8{kern: isaTable[ISAAVX2].gemm8, packQuad: true, pairQuad: pq, pairQuadF: isaTable[ISAAVX2].pairQuadF, kq: gemmPairKC}
		kerns["pair/kc1024"] = case8{kern: isaTable[ISAAVX2].gemm8, packQuad: true, pairQuad: pq}
		// The pair layout (4096-row blocks) converted for the int16
		// kernels (1024-row blocks), as for a Pool limited to ISAGeneric.
		kerns["generic/from-pair"] = case8{kern: gemm8Kernels{one: kernel8Generic}, packQuad: true, kq: gemmPairKC}
	}
	return kerns
}

// refSum8 is C[i,j] of MatMulInteger in int64 arithmetic: Σₚ (A[i,p]−aZero)
// (B[p,j]−zero), B read as int8 when signed, zero per tensor or column.
func refSum8(i, j, k int, a []uint8, lda int, aZero uint8, b []byte, ldb int, signed bool, zero []int32) int64 {
	z := zero[0]
	if len(zero) > 1 {
		z = zero[j]
	}
	var sum int64
	for p := range k {
		bv := int64(b[p*ldb+j])
		if signed {
			bv = int64(int8(b[p*ldb+j]))
		}
		sum += (int64(a[i*lda+p]) - int64(aZero)) * (bv - int64(z))
	}
	return sum
}

func TestGemmU8(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(17, 1))
	for name, kern := range gemm8Cases() {
		for _, s := range [][3]int{{1, 1, 1}, {6, 16, 2}, {7, 17, 3}, {3, 20, 5}, {5, 33, 64}, {10, 17, 9}, {50, 64, 768}, {13, 40, 1031}, {61, 300, 2050}, {7, 33, 4099}} {
			m, n, k := s[0], s[1], s[2]
			for _, signed := range []bool{false, true} {
				// width 0: full-range weights; 1: 7-bit around the middle
				// (B' within ±64); 2: 7-bit off the middle (uint8 in
				// [0, 127], as reduce_range writes them; int8 in [−100, 28]).
				for width := range 3 {
					narrow, shifted := width > 0, width == 2
					for _, perColumn := range []bool{false, true} {
						lda, ldb, ldc := k+1, n+2, n+3
						a := make([]uint8, m*lda)
						b := make([]byte, k*ldb)
						for i := range a {
							a[i] = uint8(rng.IntN(256))
						}
						for i := range b {
							b[i] = byte(rng.IntN(256))
							if narrow {
								// B' = b (signed) or b−128 within ±64.
								b[i] = byte(rng.IntN(129) + 64)
								if signed {
									b[i] = byte(int8(rng.IntN(129) - 64))
								}
								if shifted {
									b[i] = byte(rng.IntN(128))
									if signed {
										b[i] = byte(int8(rng.IntN(129) - 100))
									}
								}
							}
						}
						// Extreme values: all-255 A rows against ±128 B stress
						// saturation; narrow, pairs of +64 and of −64, the
						// largest int16 pair sums VPMADDUBSW must not saturate.
						for p := range k {
							a[p] = 255
							b[p*ldb] = 0x80
							if narrow {
								b[p*ldb] = byte(192 - 128*(p/2%2))
								if signed {
									b[p*ldb] = byte(int8(64 - 128*(p/2%2)))
								}
							}
							if shifted {
								b[p*ldb] = byte(127 - 127*(p/2%2))
								if signed {
									b[p*ldb] = byte(int8(28 - 128*(p/2%2)))
								}
							}
						}
						aZero := uint8(rng.IntN(256))
						zero := []int32{int32(rng.IntN(256))}
						if signed {
							zero[0] -= 128
						}
						if perColumn {
							zero = make([]int32, n)
							for j := range zero {
								zero[j] = int32(rng.IntN(256))
								if signed {
									zero[j] -= 128
								}
							}
						}
						pb, err := kern.pack(k, n, b, ldb, signed, zero)
						if err != nil {
							t.Fatal(err)
						}
						if kern.packQuad && narrow && !pb.pairSafe {
							t.Fatalf("%s: narrow weights not pair-safe", name)
						}
						c := make([]int32, m*ldc)
						for i := range c {
							c[i] = -7
						}
						orig := append([]int32(nil), c...)
						if err := gemmU8(pool, kern.kern, kern.runQuad, kern.pairQuad, kern.pairQuadF, m, a, lda, aZero, pb, c, ldc, nil); err != nil {
							t.Fatal(err)
						}
						for i := range m {
							for j := range ldc {
								if j >= n {
									if c[i*ldc+j] != orig[i*ldc+j] {
										t.Fatalf("padding of C written")
									}
									continue
								}
								want := refSum8(i, j, k, a, lda, aZero, b, ldb, signed, zero)
								if got := c[i*ldc+j]; int64(got) != want {
									t.Fatalf("%s %s: C[%d,%d] = %d, want %d", name, fmt.Sprint(m, n, k, signed, width, perColumn), i, j, got, want)
								}
							}
						}
					}
				}
			}
		}
	}
	if _, err := PackB8(2, 2, make([]byte, 4), 2, false, []int32{1, 2, 3}); err == nil {
		t.Error("PackB8 accepted 3 zero points for 2 columns")
	}
}

// TestPackB8PairLayout: at the AVX2 level, 7-bit weights are packed in the
// quad layout for the VPMADDUBSW kernel, and weights with one pair over
// |b₀|+|b₁| = 128 in the int16 layout (VPMADDUBSW would saturate on them).
func TestPackB8PairLayout(t *testing.T) {
	lv := &isaTable[ISAAVX2]
	if lv.pairQuad == nil {
		t.Skip("no AVX2 on this CPU")
	}
	for _, signed := range []bool{true, false} {
		off := 128
		if signed {
			off = 0
		}
		const k, n = 6, 5
		b := make([]byte, k*n)
		for i := range b {
			b[i] = byte(off + i%129 - 64) // B' within ±64
		}
		pb, err := lv.packB8(k, n, b, n, signed, []int32{3})
		if err != nil {
			t.Fatal(err)
		}
		if pb.q == nil || !pb.pairSafe {
			t.Errorf("signed=%v: 7-bit weights not in the pair-safe quad layout", signed)
		}
		b[2*n+4], b[3*n+4] = byte(off+65), byte(off-64) // rows 2 and 3 pair: 129
		if pb, err = lv.packB8(k, n, b, n, signed, []int32{3}); err != nil {
			t.Fatal(err)
		}
		if pb.q != nil || pb.data == nil {
			t.Errorf("signed=%v: a pair summing to 129 packed in the quad layout", signed)
		}
	}
}
