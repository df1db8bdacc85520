package imageproc

import (
	"bytes"
	"math/rand"
	"os"
	"testing"
)

// randomIDCTInput fills nb blocks of coefficients and a quantisation table:
// photo-like small values, and in some trials the extremes a crafted file
// can hold (±32767 coefficients, 16-bit quantisers), where the 32-bit sums
// wrap and the kernels must still agree with the Go twins.
func randomIDCTInput(rng *rand.Rand, nb int, extreme bool) ([]int16, *[64]int32) {
	coefs := make([]int16, nb*64)
	var q [64]int32
	for i := range q {
		q[i] = int32(1 + rng.Intn(255))
		if extreme {
			q[i] = []int32{1, 255, 65535, int32(1 + rng.Intn(65535))}[rng.Intn(4)]
		}
	}
	for i := range coefs {
		switch {
		case extreme:
			coefs[i] = []int16{32767, -32768, 0, -1, int16(rng.Intn(65536) - 32768)}[rng.Intn(5)]
		case i%64 == 0:
			coefs[i] = int16(rng.Intn(2048) - 1024)
		case rng.Intn(3) == 0:
			coefs[i] = int16(rng.Intn(64) - 32)
		}
	}
	return coefs, &q
}

// idctRowGo runs the n×n Go IDCT on each block of coefs, block i's pixels
// going to out[n*i:] (rows at stride).
func idctRowGo(n int, coefs []int16, q *[64]int32, out []uint8, stride int) {
	idct := map[int]func([]int16, *[64]int32, []uint8, int){8: idctIslow, 4: idct4x4, 2: idct2x2}[n]
	for bx := 0; bx < len(coefs)/64; bx++ {
		idct(coefs[bx*64:bx*64+64], q, out[bx*n:], stride)
	}
}

// idctRowSIMD is idctRowGo with the SIMD kernel (AVX2 or NEON) of that size.
func idctRowSIMD(n int, coefs []int16, q *[64]int32, out []uint8, stride int) {
	switch nb := len(coefs) / 64; n {
	case 8:
		idctIslowSIMD(&coefs[0], q, &out[0], stride, nb)
	case 4:
		idct4x4SIMD(&coefs[0], red4x4Table(q), &out[0], stride, nb)
	default:
		idct2x2SIMD(&coefs[0], red2x2Table(q), &out[0], stride, nb)
	}
}

// TestIDCTSIMDMatchesGo: the SIMD (AVX2 or NEON) 8x8 (islow), 4x4 and 2x2 IDCTs give the
// Go twins' pixels byte for byte on random blocks, including wrapping ones
// and the all-zero-AC blocks and columns libjpeg shortcuts.
func TestIDCTSIMDMatchesGo(t *testing.T) {
	if !hasSIMD {
		t.Skip("no SIMD kernels here (no AVX2, or GODEBUG turned it off)")
	}
	rng := rand.New(rand.NewSource(16))
	for trial := 0; trial < 400; trial++ {
		nb := 1 + rng.Intn(9)
		coefs, q := randomIDCTInput(rng, nb, trial%4 == 3)
		switch trial % 10 {
		case 0: // DC only
			for i := range coefs {
				if i%64 != 0 {
					coefs[i] = 0
				}
			}
		case 1, 2: // some columns without AC terms (pass 1's shortcut)
			for col := 0; col < 8; col++ {
				if rng.Intn(2) == 0 {
					for bx := 0; bx < nb; bx++ {
						for r := 1; r < 8; r++ {
							coefs[bx*64+r*8+col] = 0
						}
					}
				}
			}
		}
		for _, n := range []int{8, 4, 2} {
			stride := nb*n + rng.Intn(5)
			want := make([]uint8, n*stride)
			got := make([]uint8, n*stride)
			for i := range want {
				want[i] = uint8(rng.Intn(256))
			}
			copy(got, want)
			idctRowGo(n, coefs, q, want, stride)
			idctRowSIMD(n, coefs, q, got, stride)
			if !bytes.Equal(got, want) {
				t.Fatalf("trial %d, %dx%d IDCT of %d blocks (stride %d):\n got %v\nwant %v", trial, n, n, nb, stride, got, want)
			}
		}
	}
}

// BenchmarkIDCT: one block row of a 12 MP photo: luma at full size (8x8)
// and at 1/4 scale (2x2 IDCT), chroma at 1/4 (4x4); Go twin against the SIMD kernel.
func BenchmarkIDCT(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	const nb = 500
	coefs, q := randomIDCTInput(rng, nb, false)
	for _, n := range []int{8, 4, 2} {
		out := make([]uint8, n*nb*n)
		stride := nb * n
		b.Run(map[int]string{8: "8x8", 4: "4x4", 2: "2x2"}[n]+"/go", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				idctRowGo(n, coefs, q, out, stride)
			}
		})
		if !hasSIMD {
			continue
		}
		b.Run(map[int]string{8: "8x8", 4: "4x4", 2: "2x2"}[n]+"/"+simdISA, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				idctRowSIMD(n, coefs, q, out, stride)
			}
		})
	}
}

// TestAVX2KernelsOffWhenHidden: CI's second run (GODEBUG=cpu.avx2=off,
// CLIP_EXPECT_ISA=generic) must take the Go twins on full lengths; this
// fails if the SIMD kernels ran after all.
func TestAVX2KernelsOffWhenHidden(t *testing.T) {
	if os.Getenv("CLIP_EXPECT_ISA") != "generic" {
		t.Skip("CLIP_EXPECT_ISA=generic not set (CI sets it with GODEBUG=cpu.avx2=off)")
	}
	if hasSIMD {
		t.Fatalf("AVX2 kernels enabled with GODEBUG=%q", os.Getenv("GODEBUG"))
	}
}
