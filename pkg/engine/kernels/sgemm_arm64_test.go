package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestKernelNEONTile checks the NEON micro-kernel on its own against a
// float64 product of the packed panels, for every row count (the partial
// panels of A), depths around the 4-, 2- and 1-step loops (kc = 0 too),
// both store modes and a strided C: rows past rows and columns past 16
// must keep their exact bits, and with accumulate false C's old NaNs must
// not leak into the result.
func TestKernelNEONTile(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	nan := float32(math.NaN())
	for rows := 1; rows <= gemmMR; rows++ {
		for _, kc := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 64, 515} {
			for _, accumulate := range []bool{false, true} {
				for _, ldc := range []int{gemmNR, gemmNR + 5} {
					name := fmt.Sprintf("rows=%d,kc=%d,accumulate=%v,ldc=%d", rows, kc, accumulate, ldc)
					a := randSlice(rng, kc*gemmMR)
					b := randSlice(rng, kc*gemmNR)
					c := randSlice(rng, gemmMR*ldc)
					if !accumulate {
						for r := range rows {
							for j := range gemmNR {
								c[r*ldc+j] = nan
							}
						}
					}
					orig := append([]float32(nil), c...)
					kernelNEON(rows, kc, a, b, c, ldc, accumulate)
					for r := range gemmMR {
						for j := range ldc {
							got := c[r*ldc+j]
							if r >= rows || j >= gemmNR {
								if math.Float32bits(got) != math.Float32bits(orig[r*ldc+j]) {
									t.Fatalf("%s: C[%d,%d] outside the tile changed from %g to %g", name, r, j, orig[r*ldc+j], got)
								}
								continue
							}
							var want, mag float64
							if accumulate {
								want = float64(orig[r*ldc+j])
								mag = math.Abs(want)
							}
							for p := range kc {
								prod := float64(a[p*gemmMR+r]) * float64(b[p*gemmNR+j])
								want += prod
								mag += math.Abs(prod)
							}
							tol := 2*float64(kc+2)*float64(math.Nextafter32(1, 2)-1)*mag + 1e-30
							if d := math.Abs(float64(got) - want); !(d <= tol) {
								t.Fatalf("%s: C[%d,%d] = %g, want %g (|diff| %g > tol %g)", name, r, j, got, want, d, tol)
							}
						}
					}
				}
			}
		}
	}
}
