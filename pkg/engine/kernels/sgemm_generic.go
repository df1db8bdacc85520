package kernels

// kernelGeneric is the portable micro-kernel: the reference for the
// assembly one and the fallback on CPUs without AVX2+FMA. It always
// computes all MR rows. It walks the tile in 2×4 blocks whose eight
// accumulators the compiler keeps in registers (an MR×NR array would live
// in memory and run ~3× slower); the packed panels stay in L1 across the
// 12 passes.
func kernelGeneric(_, kc int, a, b, c []float32, ldc int, accumulate bool) {
	a = a[:kc*gemmMR]
	b = b[:kc*gemmNR]
	for r := 0; r < gemmMR; r += 2 {
		for j := 0; j < gemmNR; j += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			for p := range kc {
				ap := a[p*gemmMR+r : p*gemmMR+r+2 : p*gemmMR+r+2]
				bp := b[p*gemmNR+j : p*gemmNR+j+4 : p*gemmNR+j+4]
				a0, a1 := ap[0], ap[1]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
			}
			d0 := c[r*ldc+j : r*ldc+j+4 : r*ldc+j+4]
			d1 := c[(r+1)*ldc+j : (r+1)*ldc+j+4 : (r+1)*ldc+j+4]
			if accumulate {
				d0[0] += c00
				d0[1] += c01
				d0[2] += c02
				d0[3] += c03
				d1[0] += c10
				d1[1] += c11
				d1[2] += c12
				d1[3] += c13
			} else {
				d0[0], d0[1], d0[2], d0[3] = c00, c01, c02, c03
				d1[0], d1[1], d1[2], d1[3] = c10, c11, c12, c13
			}
		}
	}
}
