package kernels

// kernelGeneric is the portable micro-kernel: the reference for the
// assembly one and the fallback on CPUs without AVX2+FMA. It always
// computes all MR rows.
func kernelGeneric(_, kc int, a, b, c []float32, ldc int, accumulate bool) {
	var acc [gemmMR][gemmNR]float32
	a = a[:kc*gemmMR]
	b = b[:kc*gemmNR]
	for p := range kc {
		bp := (*[gemmNR]float32)(b[p*gemmNR:])
		ap := (*[gemmMR]float32)(a[p*gemmMR:])
		for r := range gemmMR {
			ar := ap[r]
			row := &acc[r]
			for j := range gemmNR {
				row[j] += ar * bp[j]
			}
		}
	}
	for r := range gemmMR {
		dst := c[r*ldc : r*ldc+gemmNR]
		if accumulate {
			for j := range dst {
				dst[j] += acc[r][j]
			}
		} else {
			copy(dst, acc[r][:])
		}
	}
}
