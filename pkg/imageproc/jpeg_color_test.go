package imageproc

import (
	"bytes"
	"math/rand"
	"testing"
)

// TestYCCRowSIMDMatchesGo: the SIMD (AVX2 or NEON) colour conversion gives the table
// conversion's bytes for every (Y, Cb, Cr) triple, and convertRow's
// dispatch handles rows whose length is not a multiple of 16.
func TestYCCRowSIMDMatchesGo(t *testing.T) {
	if !hasSIMD {
		t.Skip("no SIMD kernels here (no AVX2, or GODEBUG turned it off)")
	}
	tab := newYCCTables()
	y := make([]uint8, 1<<16)
	cb := make([]uint8, 1<<16)
	cr := make([]uint8, 1<<16)
	got := make([]uint8, 3<<16)
	want := make([]uint8, 3<<16)
	for i := range y {
		y[i], cb[i] = uint8(i), uint8(i>>8)
	}
	for v := 0; v < 256; v++ {
		for i := range cr {
			cr[i] = uint8(v)
		}
		yccRowSIMD(&got[0], &y[0], &cb[0], &cr[0], len(y))
		tab.convertRowGo(want, y, cb, cr)
		if !bytes.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					p := i / 3
					t.Fatalf("Y %d Cb %d Cr %d: got %v, want %v", y[p], cb[p], v, got[3*p:3*p+3], want[3*p:3*p+3])
				}
			}
		}
	}
	rng := rand.New(rand.NewSource(16))
	for _, n := range []int{1, 15, 16, 17, 31, 33, 100} {
		for i := 0; i < n; i++ {
			y[i], cb[i], cr[i] = uint8(rng.Intn(256)), uint8(rng.Intn(256)), uint8(rng.Intn(256))
		}
		got, want := make([]uint8, 3*n+3), make([]uint8, 3*n+3)
		got[3*n], want[3*n] = 7, 7 // a byte past the row stays untouched
		tab.convertRow(got[:3*n], y[:n], cb[:n], cr[:n])
		tab.convertRowGo(want[:3*n], y[:n], cb[:n], cr[:n])
		if !bytes.Equal(got, want) {
			t.Fatalf("row of %d: got %v, want %v", n, got, want)
		}
	}
}

// BenchmarkYCCRow: the colour conversion of a 1000-pixel row (a 12 MP
// photo's width at the 1/4 draft scale), Go tables against the SIMD kernel.
func BenchmarkYCCRow(b *testing.B) {
	tab := newYCCTables()
	rng := rand.New(rand.NewSource(1))
	const n = 1000
	y, cb, cr, o := make([]uint8, n), make([]uint8, n), make([]uint8, n), make([]uint8, 3*n)
	for i := range y {
		y[i], cb[i], cr[i] = uint8(rng.Intn(256)), uint8(rng.Intn(256)), uint8(rng.Intn(256))
	}
	b.Run("go", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			tab.convertRowGo(o, y, cb, cr)
		}
	})
	if hasSIMD {
		b.Run(simdISA, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				tab.convertRow(o, y, cb, cr)
			}
		})
	}
}

// TestFancyH2SIMDMatchesGo: the SIMD (AVX2 or NEON) path of h2v2 and h2v1 fancy
// upsampling (fancyH2Row, then convertRow) gives convertFancyH2's pixels,
// at odd and even widths, edges included.
func TestFancyH2SIMDMatchesGo(t *testing.T) {
	if !hasSIMD {
		t.Skip("no SIMD kernels here (no AVX2, or GODEBUG turned it off)")
	}
	tab := newYCCTables()
	rng := rand.New(rand.NewSource(16))
	for trial := 0; trial < 500; trial++ {
		n := 1 + rng.Intn(70)
		w := 2*n - rng.Intn(2)
		row := func() []uint8 {
			r := make([]uint8, n)
			for i := range r {
				r[i] = uint8(rng.Intn(256))
				if trial%5 == 0 {
					r[i] = 255 * uint8(rng.Intn(2))
				}
			}
			return r
		}
		y, near, far, nearR, farR := make([]uint8, w), row(), row(), row(), row()
		for i := range y {
			y[i] = uint8(rng.Intn(256))
		}
		h2v1 := trial%2 == 1
		cbV, crV := make([]int32, n), make([]int32, n)
		for i := range cbV {
			cbV[i], crV[i] = 3*int32(near[i])+int32(far[i]), 3*int32(nearR[i])+int32(farR[i])
			if h2v1 {
				cbV[i], crV[i] = int32(near[i]), int32(nearR[i])
			}
		}
		want := make([]uint8, 3*w)
		b0, b1 := int32(8), int32(7)
		if h2v1 {
			tab.convertFancyH2(want, y, cbV, crV, 2, 1, 2)
			far, farR, b0, b1 = near, nearR, 4, 8
		} else {
			tab.convertFancyH2(want, y, cbV, crV, 4, 8, 7)
		}
		cb, cr, got := make([]uint8, w), make([]uint8, w), make([]uint8, 3*w)
		fancyH2Row(cb, near, far, b0, b1)
		fancyH2Row(cr, nearR, farR, b0, b1)
		tab.convertRow(got, y, cb, cr)
		if !bytes.Equal(got, want) {
			t.Fatalf("trial %d (h2v1 %v), %d samples to %d pixels:\n got %v\nwant %v", trial, h2v1, n, w, got, want)
		}
	}
}

// BenchmarkFancyH2Row: h2v2 upsampling and colour conversion of a 4000-
// pixel row (a 12 MP photo at full size), fused Go against the SIMD kernels.
func BenchmarkFancyH2Row(b *testing.B) {
	tab := newYCCTables()
	const n = 2000
	y, near, far := make([]uint8, 2*n), make([]uint8, n), make([]uint8, n)
	for i := range near {
		near[i], far[i], y[2*i], y[2*i+1] = uint8(i*7), uint8(i*13), uint8(i), uint8(i*3)
	}
	o, cb, cr := make([]uint8, 6*n), make([]uint8, 2*n), make([]uint8, 2*n)
	cbV := make([]int32, n)
	b.Run("go", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for j := range cbV {
				cbV[j] = 3*int32(near[j]) + int32(far[j])
			}
			tab.convertFancyH2(o, y, cbV, cbV, 4, 8, 7)
		}
	})
	if hasSIMD {
		b.Run(simdISA, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				fancyH2Row(cb, near, far, 8, 7)
				fancyH2Row(cr, near, far, 8, 7)
				tab.convertRow(o, y, cb, cr)
			}
		})
	}
}
