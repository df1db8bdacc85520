package kernels

import (
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
)

// TestKernel8NEON checks the NEON int8 micro-kernel tile by tile against
// the exact sum Σ a·b over the packed pairs, in int64: every row count
// (the partial panels of A), pair counts on both sides of the 2-step
// unroll, both accumulate modes, extreme operands (±255, the largest
// magnitudes left after the zero points), and a C stride wider than the
// tile whose rows past rows and columns past 16 must stay untouched.
func TestKernel8NEON(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 64))
	const ldc = gemmNR + 5
	for rows := 1; rows <= gemmMR; rows++ {
		for _, kp := range []int{1, 2, 3, 4, 5, 8, 9, 33, 512} {
			for _, accumulate := range []bool{false, true} {
				for _, extreme := range []bool{false, true} {
					a := make([]int16, kp*gemmMR*2)
					b := make([]int16, kp*gemmNR*2)
					for i := range a {
						a[i] = int16(rng.IntN(511) - 255)
						if extreme {
							a[i] = 255
						}
					}
					for i := range b {
						b[i] = int16(rng.IntN(511) - 255)
						if extreme {
							b[i] = -255
						}
					}
					c := make([]int32, gemmMR*ldc)
					for i := range c {
						c[i] = int32(rng.IntN(2001) - 1000)
					}
					orig := append([]int32(nil), c...)
					kernel8NEON(rows, kp, a, b, c, ldc, accumulate)
					for r := range gemmMR {
						for j := range ldc {
							got := c[r*ldc+j]
							if r >= rows || j >= gemmNR {
								if got != orig[r*ldc+j] {
									t.Fatalf("rows=%d kp=%d: C[%d,%d] outside the tile changed: %d, was %d", rows, kp, r, j, got, orig[r*ldc+j])
								}
								continue
							}
							var want int64
							if accumulate {
								want = int64(orig[r*ldc+j])
							}
							for p := range kp {
								for h := range 2 {
									want += int64(a[(p*gemmMR+r)*2+h]) * int64(b[(p*gemmNR+j)*2+h])
								}
							}
							if int64(got) != want {
								t.Fatalf("rows=%d kp=%d accumulate=%v extreme=%v: C[%d,%d] = %d, want %d", rows, kp, accumulate, extreme, r, j, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestActiveKernels8NEON checks that GemmU8 runs the NEON kernel at the
// native level on arm64 (and the Go one at the generic level).
func TestActiveKernels8NEON(t *testing.T) {
	pool := NewPool(1)
	defer pool.Close()
	generic, err := NewPoolWith(1, WithISA(ISAGeneric))
	if err != nil {
		t.Fatal(err)
	}
	defer generic.Close()
	name := func(k microKernel8) string {
		return runtime.FuncForPC(reflect.ValueOf(k).Pointer()).Name()
	}
	if got, want := name(pool.level().gemm8.one), name(kernel8NEON); got != want {
		t.Errorf("native int8 kernel is %s, want %s", got, want)
	}
	if got, want := name(generic.level().gemm8.one), name(kernel8Generic); got != want {
		t.Errorf("generic-level int8 kernel is %s, want %s", got, want)
	}
	if pool.level().gemm8.two != nil {
		t.Error("arm64 has no two-panel int8 kernel, but the native level sets one")
	}
}
