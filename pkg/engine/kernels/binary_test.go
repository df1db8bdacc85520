package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBinary checks the vector routes of Binary against Go's float32
// operators bit for bit (NaN for NaN), at every length around the vector
// step, with the values that round or trap differently when an
// implementation is wrong: signed zeros, infinities, NaN, subnormals,
// overflow and underflow; and in place (dst is x, dst is y).
func TestBinary(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-38, math.MaxFloat32, -math.MaxFloat32, 3e38, 1e-30}
	value := func() float32 {
		if rng.IntN(4) == 0 {
			return special[rng.IntN(len(special))]
		}
		return float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-4)))
	}
	same := func(a, b float32) bool {
		return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
	}
	names := []string{"add", "sub", "mul", "div"}
	for op := BinaryAdd; op <= BinaryDiv; op++ {
		for _, n := range []int{0, 1, 7, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 1000} {
			x, y := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i], y[i] = value(), value()
			}
			want := make([]float32, n)
			binaryGo(op, want, x, y)
			got := make([]float32, n+1) // one past: must stay untouched
			got[n] = 42
			Binary(op, got[:n], x, y)
			for i := range want {
				if !same(got[i], want[i]) {
					t.Fatalf("%s n=%d: [%d] %v %s %v = %v, want %v", names[op], n, i, x[i], names[op], y[i], got[i], want[i])
				}
			}
			if got[n] != 42 {
				t.Fatalf("%s n=%d: wrote past dst", names[op], n)
			}
			inX := append([]float32(nil), x...)
			Binary(op, inX, inX, y)
			inY := append([]float32(nil), y...)
			Binary(op, inY, x, inY)
			for i := range want {
				if !same(inX[i], want[i]) || !same(inY[i], want[i]) {
					t.Fatalf("%s n=%d in place: [%d] = %v, %v, want %v", names[op], n, i, inX[i], inY[i], want[i])
				}
			}
		}
	}
}

func BenchmarkBinary(b *testing.B) {
	x, y, dst := make([]float32, 4096), make([]float32, 4096), make([]float32, 4096)
	for i := range x {
		x[i], y[i] = float32(i)+1, float32(i%7)+0.5
	}
	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"vector", func() { Binary(BinaryMul, dst, x, y) }},
		{"go", func() { binaryGo(BinaryMul, dst, x, y) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.fn()
			}
			b.ReportMetric(float64(len(dst))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gvalues/s")
		})
	}
}
