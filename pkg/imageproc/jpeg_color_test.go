package imageproc

import (
	"bytes"
	"math/rand"
	"testing"
)

// TestYCCRowAVX2MatchesGo: the AVX2 colour conversion gives the table
// conversion's bytes for every (Y, Cb, Cr) triple, and convertRow's
// dispatch handles rows whose length is not a multiple of 16.
func TestYCCRowAVX2MatchesGo(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 on this CPU (or GODEBUG turned it off)")
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
		yccRowAVX2(&got[0], &y[0], &cb[0], &cr[0], len(y))
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
// photo's width at the 1/4 draft scale), Go tables against AVX2.
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
	if hasAVX2 {
		b.Run("avx2", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				tab.convertRow(o, y, cb, cr)
			}
		})
	}
}
