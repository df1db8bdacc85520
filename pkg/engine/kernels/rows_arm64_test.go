package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRowStepsNEON checks the NEON Softmax and LayerNorm steps directly
// against float64 sums, maxima and products, on lengths around their
// block sizes; values past n must stay untouched.
func TestRowStepsNEON(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	eps32 := float64(math.Nextafter32(1, 2) - 1)
	for _, n := range []int{4, 16, 20, 32, 48, 100, 768} {
		x := randSlice(rng, n+3)
		for i := range x {
			x[i] = x[i]*3 + 1 // a non-zero mean, as LayerNorm rows have
		}
		x[n/2] = 9 // a clear maximum inside the first n
		m4, m16 := n&^3, n&^15

		wantMax := math.Inf(-1)
		for _, v := range x[:m4] {
			wantMax = max(wantMax, float64(v))
		}
		if got := maxNEON(&x[0], m4); float64(got) != wantMax {
			t.Errorf("n=%d: maxNEON = %g, want %g", n, got, wantMax)
		}

		var sum, abs float64
		for _, v := range x[:m16] {
			sum += float64(v)
			abs += math.Abs(float64(v))
		}
		if m16 > 0 {
			if got := sumNEON(&x[0], m16); math.Abs(float64(got)-sum) > float64(m16)*eps32*abs {
				t.Errorf("n=%d: sumNEON = %g, want %g", n, got, sum)
			}
			mean := float32(sum / float64(m16))
			var ssd float64
			for _, v := range x[:m16] {
				d := float64(v) - float64(mean)
				ssd += d * d
			}
			if got := sumSqDevNEON(&x[0], m16, mean); math.Abs(float64(got)-ssd) > 2*float64(m16)*eps32*ssd {
				t.Errorf("n=%d: sumSqDevNEON = %g, want %g", n, got, ssd)
			}
		}

		// Softmax steps: exp(x − shift) with its sum, then a scale.
		shift := float32(wantMax)
		dst := make([]float32, n+3)
		for i := range dst {
			dst[i] = -7
		}
		gotSum := expShiftSumNEON(&dst[0], &x[0], m4, shift)
		var wantSum float64
		for i := range m4 {
			want := math.Exp(float64(x[i] - shift)) // the shift is exact in float32 here
			wantSum += want
			if d := ulpDiff(dst[i], want); d > 2 {
				t.Errorf("n=%d: expShiftSumNEON dst[%d] = %g, %.1f ulp from %g", n, i, dst[i], d, want)
			}
		}
		if math.Abs(float64(gotSum)-wantSum) > float64(m4+4)*eps32*wantSum {
			t.Errorf("n=%d: expShiftSumNEON sum = %g, want %g", n, gotSum, wantSum)
		}
		before := append([]float32(nil), dst...)
		scaleNEON(&dst[0], m4, 0.25) // exact: a power of two
		for i := range dst {
			want := before[i]
			if i < m4 {
				want *= 0.25
			}
			if dst[i] != want {
				t.Fatalf("n=%d: scaleNEON dst[%d] = %g, want %g", n, i, dst[i], want)
			}
		}

		// LayerNorm's affine step.
		gamma, beta := randSlice(rng, n), randSlice(rng, n)
		const mean, rstd = float32(0.75), float32(1.5)
		out := make([]float32, n+3)
		normAffineNEON(&out[0], &x[0], &gamma[0], &beta[0], m4, mean, rstd)
		for i := range out {
			if i >= m4 {
				if out[i] != 0 {
					t.Fatalf("n=%d: normAffineNEON wrote out[%d] past n", n, i)
				}
				continue
			}
			d := (float64(x[i]) - float64(mean)) * float64(rstd)
			want := d*float64(gamma[i]) + float64(beta[i])
			mag := math.Abs(d*float64(gamma[i])) + math.Abs(float64(beta[i])) + math.Abs(float64(x[i])*float64(rstd*gamma[i]))
			if math.Abs(float64(out[i])-want) > 4*eps32*mag {
				t.Errorf("n=%d: normAffineNEON[%d] = %g, want %g", n, i, out[i], want)
			}
		}
		if t.Failed() {
			return
		}
	}
}
