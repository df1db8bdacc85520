package imageproc

import (
	"bytes"
	"math/rand"
	"testing"
)

// TestResizeRowHSIMDMatchesGo: the SIMD (AVX2 or NEON) horizontal pass gives the Go
// twin's bytes for Pillow's weights of every filter at down- and upscales,
// and for random 32-bit weights whose sums wrap; rows at the end of the
// image (where the kernel's 16-byte reads would pass the end) are
// finished by the Go twin.
func TestResizeRowHSIMDMatchesGo(t *testing.T) {
	if !hasSIMD {
		t.Skip("no SIMD kernels here (no AVX2, or GODEBUG turned it off)")
	}
	rng := rand.New(rand.NewSource(16))
	for trial := 0; trial < 300; trial++ {
		inW := 1 + rng.Intn(700)
		outW := 1 + rng.Intn(300)
		f, err := Resample(1 + rng.Intn(5)).filter()
		if err != nil {
			t.Fatal(err)
		}
		from := rng.Intn(outW)
		to := from + 1 + rng.Intn(outW-from)
		c := precomputeCoeffs(inW, outW, f, from, to)
		if trial%5 == 4 {
			for i := range c.k {
				c.k[i] = int32(rng.Uint32())
			}
		}
		// in is the last row of an image: nothing after it.
		in := make([]uint8, 3*inW)
		for i := range in {
			in[i] = uint8(rng.Intn(256))
			if trial%7 == 0 {
				in[i] = 255
			}
		}
		n := to - from
		got, want := make([]uint8, 3*n+1), make([]uint8, 3*n+1)
		got[3*n], want[3*n] = 7, 7
		k4, ksize4 := expandCoeffs4(c)
		resizeRowH(got[:3*n], in, c, k4, ksize4)
		resizeRowHGo(want[:3*n], in, c, 0, n)
		if !bytes.Equal(got, want) {
			t.Fatalf("trial %d: %d -> %d (outputs %d..%d), filter %d:\n got %v\nwant %v", trial, inW, outW, from, to, c.ksize, got, want)
		}
	}
}

// BenchmarkResizeRowH: one row of the draft path's horizontal pass, 1000
// pixels to the 224 centre columns of a 298-pixel bicubic resize.
func BenchmarkResizeRowH(b *testing.B) {
	f, _ := Bicubic.filter()
	c := precomputeCoeffs(1000, 298, f, 37, 261)
	in := make([]uint8, 3*1000+64)
	for i := range in {
		in[i] = uint8(i * 7)
	}
	o := make([]uint8, 3*224)
	b.Run("go", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			resizeRowHGo(o, in, c, 0, 224)
		}
	})
	if hasSIMD {
		k4, ksize4 := expandCoeffs4(c)
		b.Run(simdISA, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				resizeRowH(o, in, c, k4, ksize4)
			}
		})
	}
}

// TestResizeRowVSIMDMatchesGo: the SIMD (AVX2 or NEON) vertical pass gives the Go twin's
// bytes for Pillow's weights and for random wrapping ones, at widths that
// leave a tail for the twin and at the extreme pixel values.
func TestResizeRowVSIMDMatchesGo(t *testing.T) {
	if !hasSIMD {
		t.Skip("no SIMD kernels here (no AVX2, or GODEBUG turned it off)")
	}
	rng := rand.New(rand.NewSource(16))
	for trial := 0; trial < 300; trial++ {
		w := 1 + rng.Intn(120)
		inH := 1 + rng.Intn(400)
		outH := 1 + rng.Intn(200)
		f, err := Resample(1 + rng.Intn(5)).filter()
		if err != nil {
			t.Fatal(err)
		}
		c := precomputeCoeffs(inH, outH, f, 0, outH)
		if trial%5 == 4 {
			for i := range c.k {
				c.k[i] = int32(rng.Uint32())
			}
		}
		tmp := NewRGB(w, inH)
		for i := range tmp.Pix {
			tmp.Pix[i] = uint8(rng.Intn(256))
			if trial%7 == 0 {
				tmp.Pix[i] = 255 * uint8(rng.Intn(2))
			}
		}
		acc := make([]int32, 3*w)
		for yy := 0; yy < outH; yy++ {
			ymin, n := c.bounds[2*yy], c.bounds[2*yy+1]
			k := c.k[yy*c.ksize : yy*c.ksize+n]
			got, want := make([]uint8, 3*w), make([]uint8, 3*w)
			resizeRowV(got, tmp, ymin, k, acc)
			resizeRowVGo(want, tmp, ymin, 0, k, acc)
			if !bytes.Equal(got, want) {
				t.Fatalf("trial %d: width %d, %d -> %d rows, output row %d:\n got %v\nwant %v", trial, w, inH, outH, yy, got, want)
			}
		}
	}
}

// BenchmarkResizeRowV: one output row of the draft path's vertical pass,
// 224 pixels from 750 rows to 224 (bicubic).
func BenchmarkResizeRowV(b *testing.B) {
	f, _ := Bicubic.filter()
	c := precomputeCoeffs(750, 224, f, 100, 101)
	tmp := NewRGB(224, 750)
	for i := range tmp.Pix {
		tmp.Pix[i] = uint8(i * 7)
	}
	k := c.k[:c.bounds[1]]
	o, acc := make([]uint8, 3*224), make([]int32, 3*224)
	b.Run("go", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			resizeRowVGo(o, tmp, c.bounds[0], 0, k, acc)
		}
	})
	if hasSIMD {
		b.Run(simdISA, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				resizeRowV(o, tmp, c.bounds[0], k, acc)
			}
		})
	}
}
