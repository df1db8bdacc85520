package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// refPackAQuad is packA's layout by its definition, element by element:
// row r0+r of A[:, p0:p0+kLen] at d[(p/4·MR + r)·4 + p%4], zero past m
// and past kLen, and the rows' sums (zero past m).
func refPackAQuad(a []uint8, lda, m, r0, p0, kLen int) ([]uint8, []int32) {
	d := make([]uint8, ceilDiv(kLen, 4)*gemmMR*4)
	rs := make([]int32, gemmMR)
	for r := 0; r < gemmMR && r0+r < m; r++ {
		for p := range kLen {
			v := a[(r0+r)*lda+p0+p]
			d[(p/4*gemmMR+r)*4+p%4] = v
			rs[r] += int32(v)
		}
	}
	return d, rs
}

// TestPackAQuad checks gemmQRun.packA (the AVX2 or NEON full-panel packer
// where the CPU has it, the Go one under GODEBUG=cpu.avx2=off) and the Go twin
// packQuad6Go against the layout's definition: full and partial panels,
// K lengths around the 16-byte blocks and not multiples of 4, row strides
// past kLen, random bytes with 0 and 255, and all-255 rows (the largest
// sums). The destination starts as garbage (padding must be zeroed) and
// is followed by guard bytes no packer may write.
func TestPackAQuad(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 3))
	packers := quad6Packers()
	const guard = 64
	for _, kLen := range []int{1, 2, 3, 4, 5, 7, 8, 12, 13, 15, 16, 17, 20, 28, 31, 32, 36, 48, 60, 64, 100, 511, 512, 516, 2048, 4096} {
		for _, pad := range []int{0, 3, 64} {
			for _, m := range []int{1, 5, 6, 7, 11, 12} {
				for _, fill := range []string{"random", "255"} {
					if fill == "255" && (pad != 3 || m != 12) {
						continue
					}
					p0 := 5
					lda := p0 + kLen + pad
					a := make([]uint8, m*lda)
					for i := range a {
						switch {
						case fill == "255":
							a[i] = 255
						case i%7 == 0:
							a[i] = 0
						case i%11 == 0:
							a[i] = 255
						default:
							a[i] = uint8(rng.Uint32())
						}
					}
					name := fmt.Sprintf("k%d/lda%d/m%d/%s", kLen, lda, m, fill)
					size := ceilDiv(kLen, 4) * gemmMR * 4
					fresh := func() ([]uint8, []int32) {
						buf := make([]uint8, size+guard)
						for i := range buf {
							buf[i] = 0xA5
						}
						return buf, []int32{-1, -1, -1, -1, -1, -1}
					}
					check := func(how string, buf []uint8, rs []int32, want []uint8, wantRS []int32) {
						t.Helper()
						if i := firstDiff(buf[:size], want); i >= 0 {
							t.Fatalf("%s %s: d[%d] = %d, want %d", name, how, i, buf[i], want[i])
						}
						if !slices.Equal(rs, wantRS) {
							t.Fatalf("%s %s: row sums %v, want %v", name, how, rs, wantRS)
						}
						for i, v := range buf[size:] {
							if v != 0xA5 {
								t.Fatalf("%s %s: wrote guard byte %d past the panel", name, how, i)
							}
						}
					}
					g := &gemmQRun{m: m, a: a, lda: lda}
					for r0 := 0; r0 < m; r0 += gemmMR {
						want, wantRS := refPackAQuad(a, lda, m, r0, p0, kLen)
						buf, rs := fresh()
						g.packA(buf[:size], rs, r0, p0, kLen)
						check(fmt.Sprintf("packA r0=%d", r0), buf, rs, want, wantRS)
						if m-r0 < gemmMR || kLen%4 != 0 {
							continue
						}
						for pn, pack := range packers {
							buf, rs := fresh()
							pack(buf[:size], rs, a[r0*lda+p0:], lda, kLen)
							check(fmt.Sprintf("%s r0=%d", pn, r0), buf, rs, want, wantRS)
						}
					}
				}
			}
		}
	}
}

// quad6Packers lists the full-panel packers this CPU runs, by name: the
// Go twin and the assembly one.
func quad6Packers() map[string]func(d []uint8, rs []int32, a []uint8, lda, kLen int) {
	m := map[string]func(d []uint8, rs []int32, a []uint8, lda, kLen int){"go": packQuad6Go}
	if hasAVX2FMA {
		m["avx2"] = func(d []uint8, rs []int32, a []uint8, lda, kLen int) {
			packQuad6Blocks(packQuad6x16AVX2, d, rs, a, lda, kLen)
		}
	}
	if hasNEON {
		m["neon"] = func(d []uint8, rs []int32, a []uint8, lda, kLen int) {
			packQuad6Blocks(packQuad6x16NEON, d, rs, a, lda, kLen)
		}
	}
	return m
}

func firstDiff(got, want []uint8) int {
	for i := range want {
		if got[i] != want[i] {
			return i
		}
	}
	return -1
}
