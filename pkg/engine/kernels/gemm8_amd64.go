package kernels

import "golang.org/x/sys/cpu"

// hasAVXVNNI reports the VEX-encoded AVX-VNNI VPDPWSSD (Alder Lake, Zen 5
// and later), which fuses the int16 multiply-add and the accumulation.
var hasAVXVNNI = hasAVX2FMA && cpu.X86.HasAVXVNNI

var activeKernel8 = func() microKernel8 {
	switch {
	case hasAVXVNNI:
		return kernel8VNNI
	case hasAVX2FMA:
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

//go:noescape
func kernel8v6x16VNNI(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8v5x16VNNI(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8v4x16VNNI(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8v3x16VNNI(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8v2x16VNNI(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8v1x16VNNI(k int, a, b *int16, c *int32, ldc int, accumulate bool)

var kernels8VNNIByRows = [gemmMR + 1]func(k int, a, b *int16, c *int32, ldc int, accumulate bool){
	nil, kernel8v1x16VNNI, kernel8v2x16VNNI, kernel8v3x16VNNI, kernel8v4x16VNNI, kernel8v5x16VNNI, kernel8v6x16VNNI,
}

func kernel8VNNI(rows, kp int, a, b []int16, c []int32, ldc int, accumulate bool) {
	_ = a[kp*gemmMR*2-1]
	_ = b[kp*gemmNR*2-1]
	_ = c[(rows-1)*ldc+gemmNR-1]
	kernels8VNNIByRows[rows](kp, &a[0], &b[0], &c[0], ldc, accumulate)
}

func kernel8AVX2(rows, kp int, a, b []int16, c []int32, ldc int, accumulate bool) {
	_ = a[kp*gemmMR*2-1]
	_ = b[kp*gemmNR*2-1]
	_ = c[(rows-1)*ldc+gemmNR-1]
	kernels8ByRows[rows](kp, &a[0], &b[0], &c[0], ldc, accumulate)
}

// simdKernels8 lists the assembly int8 kernels this CPU can run (tests
// check each against the Go reference).
func simdKernels8() map[string]microKernel8 {
	m := map[string]microKernel8{}
	if hasAVX2FMA {
		m["avx2"] = kernel8AVX2
	}
	if hasAVXVNNI {
		m["vnni"] = kernel8VNNI
	}
	return m
}
