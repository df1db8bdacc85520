package kernels

import "golang.org/x/sys/cpu"

// hasAVXVNNI reports the VEX-encoded AVX-VNNI VPDPWSSD (Alder Lake, Zen 5
// and later), which fuses the int16 multiply-add and the accumulation.
var hasAVXVNNI = hasAVX2FMA && cpu.X86.HasAVXVNNI

// hasAVX512VNNI reports VPDPWSSD on zmm registers.
var hasAVX512VNNI = hasAVX512 && cpu.X86.HasAVX512VNNI

// useQuad8 selects the uint8×int8 VPDPBUSD layout for PackB8.
var useQuad8 = hasAVX512VNNI

//go:noescape
func kernelQ6x32VNNI512(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)

//go:noescape
func kernelQ5x32VNNI512(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)

//go:noescape
func kernelQ4x32VNNI512(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)

//go:noescape
func kernelQ3x32VNNI512(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)

//go:noescape
func kernelQ2x32VNNI512(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)

//go:noescape
func kernelQ1x32VNNI512(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)

var kernelsQByRows = [gemmMR + 1]func(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32){
	nil, kernelQ1x32VNNI512, kernelQ2x32VNNI512, kernelQ3x32VNNI512, kernelQ4x32VNNI512, kernelQ5x32VNNI512, kernelQ6x32VNNI512,
}

var activeKernels8 = func() gemm8Kernels {
	one := microKernel8(kernel8Generic)
	switch {
	case hasAVXVNNI:
		one = kernel8VNNI
	case hasAVX2FMA:
		one = kernel8AVX2
	}
	k := gemm8Kernels{one: one}
	if hasAVX512VNNI {
		k.two = kernel8VNNI512
	}
	return k
}()

//go:noescape
func kernel8w6x32VNNI512(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8w5x32VNNI512(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8w4x32VNNI512(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8w3x32VNNI512(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8w2x32VNNI512(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8w1x32VNNI512(k int, a, b *int16, c *int32, ldc int, accumulate bool)

var kernels8VNNI512ByRows = [gemmMR + 1]func(k int, a, b *int16, c *int32, ldc int, accumulate bool){
	nil, kernel8w1x32VNNI512, kernel8w2x32VNNI512, kernel8w3x32VNNI512, kernel8w4x32VNNI512, kernel8w5x32VNNI512, kernel8w6x32VNNI512,
}

// kernel8VNNI512 is the two-panel (rows×32) int8 kernel.
func kernel8VNNI512(rows, kp int, a, b []int16, c []int32, ldc int, accumulate bool) {
	_ = a[kp*gemmMR*2-1]
	_ = b[2*kp*gemmNR*2-1]
	_ = c[(rows-1)*ldc+2*gemmNR-1]
	kernels8VNNI512ByRows[rows](kp, &a[0], &b[0], &c[0], ldc, accumulate)
}

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

// kernelQPair6x16AVX2 is the 6×16 pair kernel (see gemm8q_amd64.s).
//
//go:noescape
func kernelQPair6x16AVX2(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)

// kernelQPairAVX2 is the quadKernel for a pair-safe B on AVX2: the 6×32
// tile as its two 16-column panels, always 6 rows (the caller's rows < 6
// land in a 6-row staging tile).
func kernelQPairAVX2(_, kq int, a []uint8, b []int8, c []int32, ldc int, accumulate bool, rs, dc, cc []int32) {
	_ = a[kq*gemmMR*4-1]
	_ = b[kq*gemmQW*4-1]
	_ = c[(gemmMR-1)*ldc+gemmQW-1]
	_ = rs[gemmMR-1]
	_ = dc[gemmQW-1]
	_ = cc[gemmQW-1]
	half := kq * gemmNR * 4
	kernelQPair6x16AVX2(kq, &a[0], &b[0], &c[0], ldc, accumulate, &rs[0], &dc[0], &cc[0])
	kernelQPair6x16AVX2(kq, &a[0], &b[half], &c[gemmNR], ldc, accumulate, &rs[0], &dc[gemmNR], &cc[gemmNR])
}

// kernelQPair6x16FAVX2 is the pair kernel finishing its tile as floats
// (see gemm8q_amd64.s).
//
//go:noescape
func kernelQPair6x16FAVX2(k int, a *uint8, b *int8, rs, dc, cc *int32, y *float32, ldy int, scale, bias, res *float32, ldr int)

// kernelQPairFAVX2 is the quadKernelF for a pair-safe B on AVX2: the 6×32
// tile as its two 16-column panels.
func kernelQPairFAVX2(kq int, a []uint8, b []int8, rs, dc, cc []int32, y []float32, ldy int, scale, bias, res []float32, ldr int) {
	_ = a[kq*gemmMR*4-1]
	_ = b[kq*gemmQW*4-1]
	_ = rs[gemmMR-1]
	_ = dc[gemmQW-1]
	_ = cc[gemmQW-1]
	_ = y[(gemmMR-1)*ldy+gemmQW-1]
	_ = scale[gemmQW-1]
	if bias != nil {
		_ = bias[gemmQW-1]
	}
	if res != nil {
		_ = res[(gemmMR-1)*ldr+gemmQW-1]
	}
	half := kq * gemmNR * 4
	kernelQPair6x16FAVX2(kq, &a[0], &b[0], &rs[0], &dc[0], &cc[0], &y[0], ldy, &scale[0], ptrOrNil(bias), ptrOrNil(res), ldr)
	kernelQPair6x16FAVX2(kq, &a[0], &b[half], &rs[0], &dc[gemmNR], &cc[gemmNR], &y[gemmNR], ldy, &scale[gemmNR], ptrOrNil(sliceFrom(bias, gemmNR)), ptrOrNil(sliceFrom(res, gemmNR)), ldr)
}

func kernel8AVX2(rows, kp int, a, b []int16, c []int32, ldc int, accumulate bool) {
	_ = a[kp*gemmMR*2-1]
	_ = b[kp*gemmNR*2-1]
	_ = c[(rows-1)*ldc+gemmNR-1]
	kernels8ByRows[rows](kp, &a[0], &b[0], &c[0], ldc, accumulate)
}

// simdKernels8 lists the assembly int8 kernels this CPU can run (tests
// check each against the Go reference).
func simdKernels8() map[string]gemm8Kernels {
	m := map[string]gemm8Kernels{}
	if hasAVX2FMA {
		m["avx2"] = gemm8Kernels{one: kernel8AVX2}
	}
	if hasAVXVNNI {
		m["vnni"] = gemm8Kernels{one: kernel8VNNI}
	}
	if hasAVX512VNNI {
		m["vnni512"] = gemm8Kernels{one: kernel8AVX2, two: kernel8VNNI512}
	}
	return m
}

// packQuad6x16AVX2 packs six rows of A as quads (see packQuad6Blocks).
//
//go:noescape
func packQuad6x16AVX2(dst *uint8, a *uint8, lda int, blocks int, rs *int32)
