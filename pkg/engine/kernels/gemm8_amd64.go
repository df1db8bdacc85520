package kernels

var activeKernel8 = func() microKernel8 {
	if hasAVX2FMA {
		return kernel8AVX2
	}
	return kernel8Generic
}()

// kernel8x16AVX2 is kernel8Generic in AVX2 assembly on raw pointers;
// kernel8rRx16AVX2 compute its first R rows only.
//
//go:noescape
func kernel8x16AVX2(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8r5x16AVX2(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8r4x16AVX2(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8r3x16AVX2(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8r2x16AVX2(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8r1x16AVX2(k int, a, b *int16, c *int32, ldc int, accumulate bool)

var kernels8ByRows = [gemmMR + 1]func(k int, a, b *int16, c *int32, ldc int, accumulate bool){
	nil, kernel8r1x16AVX2, kernel8r2x16AVX2, kernel8r3x16AVX2, kernel8r4x16AVX2, kernel8r5x16AVX2, kernel8x16AVX2,
}

func kernel8AVX2(rows, kp int, a, b []int16, c []int32, ldc int, accumulate bool) {
	_ = a[kp*gemmMR*2-1]
	_ = b[kp*gemmNR*2-1]
	_ = c[(rows-1)*ldc+gemmNR-1]
	kernels8ByRows[rows](kp, &a[0], &b[0], &c[0], ldc, accumulate)
}
