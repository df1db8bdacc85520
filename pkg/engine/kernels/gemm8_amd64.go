package kernels

var activeKernel8 = func() microKernel8 {
	if hasAVX2FMA {
		return kernel8AVX2
	}
	return kernel8Generic
}()

// kernel8x16AVX2 is kernel8Generic in AVX2 assembly on raw pointers.
//
//go:noescape
func kernel8x16AVX2(k int, a, b *int16, c *int32, ldc int, accumulate bool)

func kernel8AVX2(kp int, a, b []int16, c []int32, ldc int, accumulate bool) {
	_ = a[kp*gemmMR*2-1]
	_ = b[kp*gemmNR*2-1]
	_ = c[(gemmMR-1)*ldc+gemmNR-1]
	kernel8x16AVX2(kp, &a[0], &b[0], &c[0], ldc, accumulate)
}
