package imageproc

import (
	"bytes"
	"math/rand"
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

// TestReducedIDCTAVX2MatchesGo: the AVX2 4x4 and 2x2 IDCTs give the Go
// twins' pixels byte for byte on random blocks, including wrapping ones
// and the all-zero-AC blocks libjpeg shortcuts.
func TestReducedIDCTAVX2MatchesGo(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 on this CPU (or GODEBUG turned it off)")
	}
	rng := rand.New(rand.NewSource(16))
	for trial := 0; trial < 400; trial++ {
		nb := 1 + rng.Intn(9)
		coefs, q := randomIDCTInput(rng, nb, trial%4 == 3)
		if trial%10 == 0 {
			for i := range coefs {
				if i%64 != 0 {
					coefs[i] = 0
				}
			}
		}
		for _, n := range []int{4, 2} {
			stride := nb*n + rng.Intn(5)
			want := make([]uint8, n*stride)
			got := make([]uint8, n*stride)
			for i := range want {
				want[i] = uint8(rng.Intn(256))
			}
			copy(got, want)
			for bx := 0; bx < nb; bx++ {
				if n == 4 {
					idct4x4(coefs[bx*64:bx*64+64], q, want[bx*4:], stride)
				} else {
					idct2x2(coefs[bx*64:bx*64+64], q, want[bx*2:], stride)
				}
			}
			if n == 4 {
				idct4x4AVX2(&coefs[0], red4x4Table(q), &got[0], stride, nb)
			} else {
				idct2x2AVX2(&coefs[0], red2x2Table(q), &got[0], stride, nb)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("trial %d, %dx%d IDCT of %d blocks (stride %d):\n got %v\nwant %v", trial, n, n, nb, stride, got, want)
			}
		}
	}
}

// BenchmarkReducedIDCT: one block row of a 12 MP photo's luma at 1/4
// scale (2x2 IDCT) and of its chroma (4x4), Go twin against AVX2.
func BenchmarkReducedIDCT(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	const nb = 500
	coefs, q := randomIDCTInput(rng, nb, false)
	for _, n := range []int{4, 2} {
		out := make([]uint8, n*nb*n)
		stride := nb * n
		b.Run(map[int]string{4: "4x4", 2: "2x2"}[n]+"/go", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for bx := 0; bx < nb; bx++ {
					if n == 4 {
						idct4x4(coefs[bx*64:bx*64+64], q, out[bx*4:], stride)
					} else {
						idct2x2(coefs[bx*64:bx*64+64], q, out[bx*2:], stride)
					}
				}
			}
		})
		if !hasAVX2 {
			continue
		}
		b.Run(map[int]string{4: "4x4", 2: "2x2"}[n]+"/avx2", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if n == 4 {
					idct4x4AVX2(&coefs[0], red4x4Table(q), &out[0], stride, nb)
				} else {
					idct2x2AVX2(&coefs[0], red2x2Table(q), &out[0], stride, nb)
				}
			}
		})
	}
}
