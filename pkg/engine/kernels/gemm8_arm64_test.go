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

// TestKernelQDOT checks the UDOT quad kernel tile by tile against the
// exact Σ a·B' + rs[r]·dc[j] + cc[j] in int64, wrapped to int32 as the
// kernel's contract says: every row count, quad counts on both sides of
// the 2-step unroll, both accumulate modes, extreme operands (a = 255
// against B' = −128 and 127) and a C stride wider than the tile whose
// other rows and columns must stay untouched.
func TestKernelQDOT(t *testing.T) {
	if !hasDotProd {
		t.Skip("no dot-product extension on this CPU")
	}
	rng := rand.New(rand.NewPCG(4, 32))
	const ldc = gemmQW + 3
	for rows := 1; rows <= gemmMR; rows++ {
		for _, kq := range []int{1, 2, 3, 4, 7, 256} {
			for _, accumulate := range []bool{false, true} {
				for _, extreme := range []bool{false, true} {
					a := make([]uint8, kq*gemmMR*4)
					b := make([]int8, kq*gemmQW*4)
					for i := range a {
						a[i] = uint8(rng.IntN(256))
						if extreme {
							a[i] = 255
						}
					}
					for i := range b {
						b[i] = int8(rng.IntN(256) - 128)
						if extreme {
							b[i] = int8(-128 + 255*(i/4%2)) // −128, 127 by column
						}
					}
					rs := make([]int32, rows)
					for r := range rs {
						for p := range kq * 4 {
							rs[r] += int32(a[(p/4*gemmMR+r)*4+p%4])
						}
					}
					dc, cc := make([]int32, gemmQW), make([]int32, gemmQW)
					for j := range dc {
						dc[j] = int32(rng.IntN(384) - 255)
						cc[j] = int32(rng.IntN(1<<20) - 1<<19)
					}
					c := make([]int32, gemmMR*ldc)
					for i := range c {
						c[i] = int32(rng.IntN(2001) - 1000)
					}
					orig := append([]int32(nil), c...)
					kernelQ(rows, kq, a, b, c, ldc, accumulate, rs, dc, cc)
					for r := range gemmMR {
						for j := range ldc {
							got := c[r*ldc+j]
							if r >= rows || j >= gemmQW {
								if got != orig[r*ldc+j] {
									t.Fatalf("rows=%d kq=%d: C[%d,%d] outside the tile changed", rows, kq, r, j)
								}
								continue
							}
							want := int64(rs[r])*int64(dc[j]) + int64(cc[j])
							if accumulate {
								want += int64(orig[r*ldc+j])
							}
							for p := range kq * 4 {
								// B' of column j: panel j/16, quad p/4, lane p%4.
								bv := b[j/gemmNR*kq*gemmNR*4+(p/4*gemmNR+j%gemmNR)*4+p%4]
								want += int64(a[(p/4*gemmMR+r)*4+p%4]) * int64(bv)
							}
							if got != int32(want) {
								t.Fatalf("rows=%d kq=%d accumulate=%v extreme=%v: C[%d,%d] = %d, want %d", rows, kq, accumulate, extreme, r, j, got, int32(want))
							}
						}
					}
				}
			}
		}
	}
}
